/**
 * The library under benchmark: the built package (dist/, what users run) when the runner says where it
 * is, else the sources. Sources run through tsx, whose name-keeping wrapper adds a call per closure
 * created — a cost the published JavaScript does not have.
 */
import { pathToFileURL } from 'node:url';

type Library = typeof import('../src/index.ts');

const built = process.env.BENCH_LIBRARY;
export const underTest: Library = built ? ((await import(pathToFileURL(built).href)) as Library) : await import('../src/index.ts');

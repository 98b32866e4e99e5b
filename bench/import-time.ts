/**
 * Cold import time (issue 16): a fresh `node` process per sample, the time of one `await import(...)`
 * measured inside it, median of 10 samples; targets interleaved (A B C D, A B C D, ...). Each entry of
 * the package as users get it (dist/index.js, dist/client/index.js, dist/testing/index.js, built first
 * when missing or older than a source file), `jose` alone, `@grpc/grpc-js` alone, and the two together;
 * every entry loads both, so an entry's own share = the entry − (jose + grpc-js together). Wall time,
 * and CPU time (less inflated by other load on a shared machine).
 * Prints one JSON object:
 *
 *   node --import tsx bench/import-time.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SAMPLES = Number(process.env.BENCH_IMPORT_SAMPLES ?? 10);
const root = fileURLToPath(new URL('..', import.meta.url));

function newestSource(directory: string): number {
  return Math.max(
    ...readdirSync(directory, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newestSource(join(directory, entry.name)) : statSync(join(directory, entry.name)).mtimeMs,
    ),
  );
}

const built = join(root, 'dist', 'index.js');
if (!existsSync(built) || statSync(built).mtimeMs < newestSource(join(root, 'src'))) {
  process.stderr.write('import: building dist/ first\n');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}

/** The package's entries, by the specifier a user writes; the file each loads is the exports map's. */
const ENTRIES: Record<string, string> = {
  'grpc-jwt-auth': join(root, 'dist', 'index.js'),
  'grpc-jwt-auth/client': join(root, 'dist', 'client', 'index.js'),
  'grpc-jwt-auth/testing': join(root, 'dist', 'testing', 'index.js'),
};

const targets: Record<string, string[]> = {
  ...Object.fromEntries(Object.entries(ENTRIES).map(([specifier, file]) => [specifier, [pathToFileURL(file).href]])),
  jose: ['jose'],
  '@grpc/grpc-js': ['@grpc/grpc-js'],
  'jose + @grpc/grpc-js': ['jose', '@grpc/grpc-js'],
};

/**
 * Milliseconds of the imports, measured inside a new node process started in the package root: wall
 * time, and the process's CPU time (all its threads), which other load on a shared machine inflates less.
 */
function sample(specifiers: string[]): [wall: number, cpu: number] {
  const script = `const started = performance.now(), cpu = process.cpuUsage(); for (const s of ${JSON.stringify(specifiers)}) await import(s); const used = process.cpuUsage(cpu); process.stdout.write(JSON.stringify([performance.now() - started, (used.user + used.system) / 1000]));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })) as [number, number];
}

const samples: Record<string, number[]> = {};
for (let round = 0; round < SAMPLES; round++) {
  for (const [name, specifiers] of Object.entries(targets)) {
    const [wall, cpu] = sample(specifiers);
    (samples[`${name} (ms)`] ??= []).push(wall);
    (samples[`${name} (CPU ms)`] ??= []).push(cpu);
  }
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const medians = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
const dependencies = medians['jose + @grpc/grpc-js (ms)'] as number;
const shares = Object.fromEntries(
  Object.keys(ENTRIES).flatMap((specifier) =>
    ['ms', 'CPU ms'].map((unit) => [
      `${specifier}: our share (${unit})`,
      (medians[`${specifier} (${unit})`] as number) - (medians[`jose + @grpc/grpc-js (${unit})`] as number),
    ]),
  ),
);
const ours = medians['grpc-jwt-auth (ms)'] as number;
process.stdout.write(JSON.stringify({ settings: { samples: SAMPLES }, ...medians, ...shares, '(grpc-jwt-auth × jose + grpc-js)': ours / dependencies }));

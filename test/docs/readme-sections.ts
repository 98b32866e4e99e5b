/**
 * Reading README.md as the tests need it: a section's fenced blocks with the line that introduces them
 * (`` `orders.proto`: ``, `Run it:`, `It prints:`), and its links outside code.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** One fenced block: its language, its text, and the paragraph line just above it. */
export interface FencedBlock {
  readonly language: string;
  readonly text: string;
  readonly label: string;
}

/** The text of the `## <title>` section, up to the next `## ` heading. */
export function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`README.md has no "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** The fenced blocks of `markdown`, in order. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  return [...markdown.matchAll(/^(.*)\n\n```(\w*)\n([\s\S]*?)^```$/gm)].map(([, label = '', language = '', text = '']) => ({ language, text, label }));
}

/** The targets of the Markdown links outside fenced blocks and inline code. */
export function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target = '']) => target);
}

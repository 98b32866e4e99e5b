/**
 * README.md as the npm registry shows it: the tarball holds no examples/, SECURITY.md or ARCHITECTURE.md,
 * so a relative link to them would be dead there; links into this repository are absolute, from
 * package.json's `homepage`, and name files that exist. And one issuer spelling throughout: issuers are
 * compared exactly, so `https://idp.example` in one snippet and `https://idp.example/` in another would
 * teach a mismatch that refuses every token.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { README, linkTargets } from './readme-sections.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { homepage: string; repository: { url: string }; bugs: { url: string } };

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- ]/gu, '')
    .replace(/ /g, '-');
}

describe('README.md on the npm registry', () => {
  it('package.json names the repository: homepage, repository and bugs agree', () => {
    assert.match(pkg.homepage, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    assert.equal(pkg.repository.url, `git+${pkg.homepage}.git`);
    assert.equal(pkg.bugs.url, `${pkg.homepage}/issues`);
  });

  it('every link is absolute or an anchor of a heading; links into the repository name files that exist', () => {
    const anchors = new Set([...README.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading = '']) => anchorOf(heading)));
    const links = linkTargets(README);
    assert.ok(links.length > 5, 'links were found');
    for (const target of links) {
      if (target.startsWith('#')) assert.ok(anchors.has(target.slice(1)), `no heading for ${target}`);
      else assert.match(target, /^https:\/\//, `a relative link is dead on the registry: ${target}`);
      const inRepository = target.startsWith(`${pkg.homepage}/blob/main/`) ? target.slice(`${pkg.homepage}/blob/main/`.length) : undefined;
      if (inRepository !== undefined) assert.ok(existsSync(`${root}${inRepository}`), `${target}: no ${inRepository} in this repository`);
    }
  });

  it('one issuer spelling: https://idp.example/, with its trailing slash, everywhere', () => {
    const bare = [...README.matchAll(/https:\/\/idp\.example(?!\/)/g)].map(({ index }) => README.slice(index, index + 40));
    assert.deepEqual(bare, []);
  });
});

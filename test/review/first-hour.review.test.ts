import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Review of issue #14, first hour item 2 ("build only when sources changed"): `npm start` and `npx keywarden`
 * run scripts/build-if-changed.js, which must see every source tsc and web/build.mjs compile. Each case edits one
 * compiled source (a comment), asks `--check` whether dist/ is stale, and restores the file.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const check = () => spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-if-changed.js'), '--check'], { cwd: ROOT }).status;

describe('build-if-changed sees every compiled source', () => {
  beforeAll(() => {
    // The worktree was built with `npm run build` (which stamps): dist/ is current to begin with.
    expect(check()).toBe(0);
  });

  it.each([
    ['web/graphiql/main.tsx (bundled by web/build.mjs into dist/web/graphiql)'],
    ['scripts/schema-policy.ts (tsconfig.json includes scripts/: dist/scripts/schema-policy.js runs in npm test)'],
    ['src/domain/lifecycle.ts (control case: a src file is seen)'],
  ])('an edit of %s makes dist/ stale', (what) => {
    const file = path.join(ROOT, what.split(' ')[0]);
    const before = readFileSync(file);
    try {
      writeFileSync(file, Buffer.concat([before, Buffer.from('\n// review edit\n')]));
      expect(check()).toBe(1);
    } finally {
      writeFileSync(file, before);
    }
    expect(check()).toBe(0);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';

/**
 * Issue #14 item 1: `npm install` printed EBADENGINE on the Node 20 the README supports
 * (@whatwg-node/promise-helpers 2.x wants Node >= 22.15). npm warns when the running Node is outside a
 * package's `engines.node`, which the lockfile records for every package: each must accept the oldest
 * Node of every range our own `engines` allows, and the Node running this test.
 */
const root = path.join(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

/** The lowest version of each `||` alternative of our engines range, e.g. 20.19.0 and 22.0.0. */
const supported = pkg.engines.node.split('||').map((range) => semver.minVersion(range.trim())!.version);

it.each([...supported, process.versions.node])('every package in the lockfile supports Node %s (no EBADENGINE)', (node) => {
  expect(semver.satisfies(node, pkg.engines.node)).toBe(true);
  const refusing = Object.entries(lock.packages)
    .filter(([name, p]) => name !== '' && !Array.isArray(p.engines) && p.engines?.node && !semver.satisfies(node, p.engines.node))
    .map(([name, p]) => `${name.replace(/^.*node_modules\//, '')}@${p.version} wants node ${(p.engines as { node: string }).node}`);
  expect(refusing).toEqual([]);
});

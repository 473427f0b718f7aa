// Runs the IAM sandbox in its own process, so the scanner's memory is measured alone.
import { buildLargeFixtureWithManifest } from '../src/sandbox/fixture-builder';
import { startIamSandbox } from '../src/sandbox/iam-sandbox.server';

process.once('message', async (msg: { users: number; seed: number; latencyMs: number }) => {
  const { fixture, manifest } = buildLargeFixtureWithManifest({ users: msg.users, seed: msg.seed, latencyMs: msg.latencyMs });
  const sandbox = await startIamSandbox({ fixture });
  const categories = Object.fromEntries(Object.entries(manifest.byCategory).map(([k, v]) => [k, v.length]));
  process.send!({ url: sandbox.url, categories });
  process.once('disconnect', () => void sandbox.close().then(() => process.exit(0)));
});

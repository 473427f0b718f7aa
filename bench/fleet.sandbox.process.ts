// Runs the sandbox's organization in its own process, so workers' memory is measured alone.
import { buildOrganizationFixtureWithManifest } from '../src/sandbox/organization-builder';
import { startIamSandbox } from '../src/sandbox/iam-sandbox.server';

process.once('message', async (msg: { accounts: number; usersPerAccount: number; seed: number; iamLatencyMs: number; assumeRoleLatencyMs: number }) => {
  const { fixture, manifest } = buildOrganizationFixtureWithManifest(msg);
  const sandbox = await startIamSandbox({ fixture });
  // The scan budget per account: 10 + 2 per console user holding an active key (as bench:scan).
  const budgets = manifest.accountIds.map((id) => {
    const c = manifest.usersOf(id).byCategory;
    return 10 + 2 * ((c['console-setup-key']?.length ?? 0) + (c['console-later-key-used']?.length ?? 0));
  });
  process.send!({ url: sandbox.url, budget: budgets.reduce((a, b) => a + b, 0), accounts: manifest.accountIds.length });
  process.on('message', (m: { calls?: boolean }) => {
    if (m.calls) process.send!({ calls: sandbox.calls().total, assumeRole: sandbox.assumeRoleCalls().length });
  });
  process.once('disconnect', () => void sandbox.close().then(() => process.exit(0)));
});

// One scan in a fresh process: wall time and peak memory belong to this scan alone.
import 'reflect-metadata';
import { createIamClient } from '../src/adapters/iam/iam-client';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { createScanService } from '../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../src/controls/no-access-keys-at-setup/control';

async function main(): Promise<void> {
  const mode = process.env.BENCH_MODE as 'CREDENTIAL_REPORT' | 'PER_USER_API';
  const concurrency = Number(process.env.BENCH_CONCURRENCY);
  const prisma = createPrismaClient(process.env.DATABASE_URL!);
  const iam = createIamClient({ endpoint: process.env.BENCH_IAM_URL!, region: 'us-east-1', credentials: { accessKeyId: 'AKIABENCHBENCHBENCH0', secretAccessKey: 'bench' } });
  let peakRss = process.memoryUsage().rss;
  const trace: string[] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    if (process.env.BENCH_TRACE) trace.push(`${Date.now() - t0}ms:${Math.round(rss / 1048576)}`);
  }, 20);
  const started = process.hrtime.bigint();
  const summary = await createScanService(prisma, iam).run({
    collect: { mode, concurrency },
    control: DEFAULT_CONTROL_SETTINGS,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  await prisma.$disconnect();
  if (process.env.BENCH_TRACE) console.error(trace.filter((_, i) => i % 10 === 0).join(" "));
  process.send!({ summary, wallMs, peakRssBytes: peakRss });
}

main().catch((err) => {
  process.send!({ error: String(err?.stack ?? err) });
});

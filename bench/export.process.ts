// The HTTP server in its own process, as deployed, for npm run bench:export: its peak RSS is the export's,
// not the benchmark client's (which reads and counts the bytes).
import 'reflect-metadata';
import pino from 'pino';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { startServer } from '../src/graphql/server';

process.once('message', async (msg: { databaseUrl: string; token: string }) => {
  const prisma = createPrismaClient(msg.databaseUrl);
  // Request logs at info, as deployed, written to /dev/null: their cost is part of every request.
  const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
  const server = await startServer({ prisma, logger, port: 0, auth: { bootstrapToken: msg.token }, limits: { ratePerMinute: 1_000_000 } });
  process.on('message', (m) => {
    // resourceUsage().maxRSS is in KiB: the process's peak resident set since it started.
    if (m !== 'rss') return;
    const peakRss = process.resourceUsage().maxRSS * 1024;
    // With --expose-gc (npm run bench:export): what the export left live, apart from the collector's slack.
    (globalThis as { gc?: () => void }).gc?.();
    process.send!({ peakRss, heapAfterGc: process.memoryUsage().heapUsed });
  });
  process.send!({ url: server.url, startRss: process.memoryUsage().rss });
  process.once('disconnect', () => void server.close().then(() => prisma.$disconnect()).then(() => process.exit(0)));
});

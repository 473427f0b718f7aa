// The GraphQL server in its own process, as deployed: the benchmark's heap (a year of synthetic
// history) and its SQL client do not share this event loop or garbage collector.
import 'reflect-metadata';
import pino from 'pino';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { startServer } from '../src/graphql/server';

process.once('message', async (msg: { databaseUrl: string; token: string }) => {
  const prisma = createPrismaClient(msg.databaseUrl);
  // Request logs at info, as deployed, written to /dev/null: their cost is part of every request.
  const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
  const server = await startServer({ prisma, logger, port: 0, auth: { bootstrapToken: msg.token }, limits: { ratePerMinute: 1_000_000 } });
  process.send!({ url: server.url });
  process.once('disconnect', () => void server.close().then(() => prisma.$disconnect()).then(() => process.exit(0)));
});

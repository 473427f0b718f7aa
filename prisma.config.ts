import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { parse } from 'pg-connection-string';

// Prisma 6.19 runs Migrate on WebAssembly ("js" engine) through a driver adapter, so no
// native schema-engine binary is downloaded (this machine cannot reach Prisma's CDN).
// The adapter gets discrete connection fields: see ../shared/notes/stack-facts.md.
export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    const c = parse(url);
    return new PrismaPg({
      host: c.host ?? '127.0.0.1',
      port: c.port ? Number(c.port) : 5432,
      user: c.user,
      password: c.password,
      database: c.database ?? undefined,
    });
  },
});

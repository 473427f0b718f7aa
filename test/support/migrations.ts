import fs from 'node:fs';
import path from 'node:path';

/** The committed migrations, in the order Prisma applies them. */
export const COMMITTED_MIGRATIONS = fs
  .readdirSync(path.join(__dirname, '../../prisma/migrations'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

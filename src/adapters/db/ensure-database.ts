import { Client } from 'pg';

/**
 * `prisma migrate deploy` refuses a database that does not exist ("Database `x` does not exist"): create it
 * first, through the server's `postgres` maintenance database, as `prisma migrate dev` and `createdb` do.
 * Returns whether it was created. When the role may not create databases, says exactly how to.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return false;
  const target = new Client({ connectionString: databaseUrl });
  try {
    await target.connect();
    return false;
  } catch (err) {
    // 3D000 invalid_catalog_name: the server answered and the database is missing. Anything else
    // (down, auth) is for the migration to report as it always has.
    if ((err as { code?: string }).code !== '3D000') return false;
  } finally {
    await target.end().catch(() => {});
  }
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '42P04') return false; // created meanwhile by another process
    const user = decodeURIComponent(url.username) || '<user>';
    throw new Error(
      `database "${name}" does not exist on ${url.hostname}:${url.port || 5432} and could not be created (${(err as Error).message}): ` +
        `create it, e.g. \`createdb -h ${url.hostname} -p ${url.port || 5432} -U ${user} ${name}\`, or as a role that may: CREATE DATABASE "${name}" OWNER "${user}"`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

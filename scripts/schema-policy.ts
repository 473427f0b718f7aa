/**
 * The schema's change policy, run by `npm test` and `npm run schema:release` (README, "Schema changes"):
 * schema.released.graphql records the schema as last released; `check` fails when schema.graphql breaks it
 * (GraphQL Inspector's diff: a removed or retyped field, a new required argument, a removed enum value...).
 * A field on its way out stays, marked `@deprecated(reason:)`; `release` moves the record forward on purpose.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';

export const RELEASED = 'schema.released.graphql';
export const CURRENT = 'schema.graphql';

export interface SchemaChange {
  level: 'BREAKING' | 'DANGEROUS' | 'NON_BREAKING';
  path: string | undefined;
  message: string;
}

/** Every change from the released SDL to the current one, as GraphQL Inspector classifies it. */
export async function schemaChanges(releasedSdl: string, currentSdl: string): Promise<SchemaChange[]> {
  const changes = await diff(buildSchema(releasedSdl), buildSchema(currentSdl));
  return changes.map((c) => ({ level: c.criticality.level as SchemaChange['level'], path: c.path, message: c.message }));
}

export async function breakingChanges(releasedSdl: string, currentSdl: string): Promise<SchemaChange[]> {
  return (await schemaChanges(releasedSdl, currentSdl)).filter((c) => c.level === CriticalityLevel.Breaking);
}

async function main(command: string | undefined): Promise<number> {
  if (command === 'check') {
    const changes = await schemaChanges(readFileSync(RELEASED, 'utf8'), readFileSync(CURRENT, 'utf8'));
    const breaking = changes.filter((c) => c.level === 'BREAKING');
    const dangerous = changes.filter((c) => c.level === 'DANGEROUS');
    for (const c of dangerous) console.warn(`dangerous: ${c.message}`);
    if (breaking.length) {
      console.error(`${CURRENT} breaks ${RELEASED} (${breaking.length} breaking change(s)):`);
      for (const c of breaking) console.error(`  - ${c.message}`);
      console.error('Keep the old field, argument or value and mark it @deprecated(reason: "Use ..."); or, for a deliberate breaking release, run `npm run schema:release` and say so in the release notes.');
      return 1;
    }
    console.log(`${CURRENT} keeps ${RELEASED}: ${changes.length} change(s), none breaking`);
    return 0;
  }
  if (command === 'release') {
    const breaking = await breakingChanges(readFileSync(RELEASED, 'utf8'), readFileSync(CURRENT, 'utf8'));
    copyFileSync(CURRENT, RELEASED);
    console.log(`${RELEASED} now records ${CURRENT}${breaking.length ? ` (${breaking.length} breaking change(s) released on purpose)` : ''}`);
    return 0;
  }
  console.error('usage: schema-policy check | release');
  return 2;
}

if (require.main === module) {
  main(process.argv[2]).then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(1);
  });
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, type OperationDefinitionNode } from 'graphql';
import { KNOWN_OPERATIONS } from '../../src/metrics/operation-names';
import * as queries from '../../web/src/queries';

/**
 * The operation names keywarden_graphql_request_duration_seconds labels without configuration are exactly those
 * the page sends and the README shows: a page query added or renamed without the list would be graphed as "other".
 */
const namesIn = (document: string) =>
  parse(document).definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition').flatMap((d) => (d.name ? [d.name.value] : []));

describe('KNOWN_OPERATIONS', () => {
  it('is the named operations of web/src/queries.ts and of the README\'s graphql blocks, no more, no fewer', () => {
    const page = [
      ...Object.values(queries as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && /^\s*(query|mutation)\b/.test(v)),
      queries.findingHistory(1),
    ].flatMap(namesIn);
    const readme = [...readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8').matchAll(/```graphql\n([\s\S]*?)```/g)].flatMap((m) => namesIn(m[1]!));
    expect(page).toEqual(expect.arrayContaining(['FailingFindings', 'AccountsRanked', 'FindingHistory', 'StartScanAll']));
    expect(readme).toContain('Sync');
    expect([...KNOWN_OPERATIONS].sort()).toEqual([...new Set([...page, ...readme])].sort());
  });
});

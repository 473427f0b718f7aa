import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, GraphQLEnumType, NoDeprecatedCustomRule, parse, specifiedRules, validate } from 'graphql';
import * as queries from '../../web/src/queries';

/**
 * The page's GraphQL, checked against the committed schema.graphql without a browser: every document in
 * web/src/queries.ts is valid and uses nothing deprecated, and every enum value the views compare against is a
 * value of its schema enum. The schema contract turned AccessKeyStatus into ACTIVE/INACTIVE and ScanError.severity
 * into ERROR/WARNING while the page still compared against 'Active' and 'error': the deactivation form then never
 * showed, and only the browser test noticed.
 */
const schema = buildSchema(readFileSync(path.join(__dirname, '..', '..', 'schema.graphql'), 'utf8'));

const documents: [string, string][] = [
  ...Object.entries(queries as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && /^\s*(query|mutation)\b/.test(e[1])),
  ['findingHistory(6)', queries.findingHistory(6)],
];

function enumValues(name: string): string[] {
  const type = schema.getType(name);
  if (!(type instanceof GraphQLEnumType)) throw new Error(`${name} is not an enum of schema.graphql`);
  return type.getValues().map((v) => v.name);
}

describe("the page's GraphQL against schema.graphql", () => {
  it('finds the documents to check', () => {
    expect(documents.map(([name]) => name)).toEqual(expect.arrayContaining(['FAILING_FINDINGS', 'ACCOUNT_SCANS', 'SCANS', 'DEACTIVATE_KEY', 'START_SCAN_ALL', 'findingHistory(6)']));
  });

  it.each(documents)('%s is valid and uses no deprecated field, argument or input field', (_name, source) => {
    const errors = validate(schema, parse(source), [...specifiedRules, NoDeprecatedCustomRule]);
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('compares only against values of the schema enums', () => {
    const checks: [string, readonly string[]][] = [
      ['ScanStatus', Object.values(queries.SCAN_STATUS)],
      ['ScanStatus', queries.ACTIVE_SCAN_STATUSES],
      ['ComplianceStatus', Object.values(queries.COMPLIANCE_STATUS)],
      ['TrendInterval', Object.values(queries.TREND_INTERVAL)],
      ['RemediationStatus', Object.values(queries.REMEDIATION_STATUS)],
      ['AccessKeyStatus', Object.values(queries.KEY_STATUS)],
      ['ScanErrorSeverity', Object.values(queries.SCAN_ERROR_SEVERITY)],
      ['FindingReason', queries.FAIL_REASONS],
    ];
    const unknown = checks.flatMap(([type, values]) => values.filter((v) => !enumValues(type).includes(v)).map((v) => `${type}.${v}`));
    expect(unknown).toEqual([]);
  });
});

import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { CREDENTIAL_REPORT_COLUMNS, CredentialReportParseError, parseCredentialReport } from '../../src/adapters/iam/credential-report.parser';
import { MAX_ERROR_MESSAGE_LENGTH, TRUNCATED_MARK } from '../../src/graphql/common/client-message';
import { keywardenSchema } from '../../src/graphql/schema';
import { DEFAULT_LIMITS } from '../../src/graphql/server';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { AccountsService } from '../../src/services/accounts.service';
import { snapshotTables } from '../support/db-snapshot';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { rootOperations } from '../support/operations';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * Property-based fuzzing of the HTTP GraphQL endpoint with fast-check, always with a valid admin token so
 * that input reaches GraphQL: wrong types, huge strings (to ~50 kB), deep nesting, alias floods, forged
 * cursors and ids, invalid and out-of-range dates, unknown enums, NUL and binary junk, mutated documents,
 * documents repeating "Did you mean " (they made suggestion stripping quadratic), aliased trends of many
 * buckets (lists without `first`), wrong content types, GET with junk query strings. And malformed CSVs at the credential report parser.
 *
 * Every response must be < 500, never INTERNAL_SERVER_ERROR (input alone must never cause an unexpected
 * error), and carry no stack trace, internal path or SQL; every error message is bounded and has no suggestion,
 * and no body is larger than the response bound. Afterwards /healthz answers, the server still
 * serves the same data, IAM saw no write, and the database is unchanged, with one precise exception:
 * remediation mutations audit refused requests. They are fuzzed only with accounts other than the
 * sandbox's, nonexistent ids or malformed input, so each call that reaches the resolver adds exactly one
 * REFUSED remediation_action row (seen in its response) and, when it carried a valid idempotency key, one
 * completed idempotency_record row pointing at such a row. The final check counts both against the
 * responses. createException is fuzzed only with inputs that are invalid at least twice over (so it writes
 * nothing), and startScan is left out (a scan is a write by design). The documents test mutates a refused
 * deactivateAccessKey document (SAFE_DEACTIVATE): a mutant that is still valid is one such refusal, counted
 * from its response too.
 *
 * Runs (numRuns): queries 400, mutations 200, mutated/structural documents 300, raw HTTP 200 (1,100
 * GraphQL requests), and 400 CSV documents. Set FUZZ_SEED to replay a run.
 */

const ACCOUNT = '818181818181';
const users: FixtureUserInput[] = [
  { userName: 'alice', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ accessKeyId: 'AKIAFUZZALICESETUP01', status: 'Active', createdAt: 'now-100d+1m' }] },
  { userName: 'bob', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ accessKeyId: 'AKIAFUZZBOBLATER0001', status: 'Active', createdAt: 'now-50d', lastUsed: { date: 'now-1d', serviceName: 's3', region: 'us-east-1' } }] },
  { userName: 'carol,with-comma', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [] },
  { userName: 'svc-api', createdAt: 'now-100d', accessKeys: [{ accessKeyId: 'AKIAFUZZSERVICEKEY01', status: 'Inactive', createdAt: 'now-100d' }] },
];
const FIXTURE: FixtureInput = { accountId: ACCOUNT, accountCreatedAt: 'now-900d', users };
/**
 * The deactivateAccessKey document the documents test mutates. It is refused (malformed account, key and reason)
 * but every call that reaches the resolver is audited: when its edits leave it valid (a 0-character delete or
 * duplicate, a truncation at its end, an insertion inside a string), it adds one REFUSED row, shown in its response.
 */
const SAFE_DEACTIVATE = 'mutation { deactivateAccessKey(input: { accountId: "99999999999", userName: "", accessKeyId: "AKIA", reason: "" }) { action { id } userErrors { code } } }';
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
/** Like fast-check's default report, with the counterexample cut short (some are 50 kB strings). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fast-check types the reporter by each property's value tuple
function report(details: fc.RunDetails<any>): void {
  if (!details.failed) return;
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `property failed after ${details.numRuns} runs (replay with FUZZ_SEED=${details.seed}, path "${details.counterexamplePath}")\n` +
      `cause: ${cause.slice(0, 2000)}\ncounterexample: ${(JSON.stringify(details.counterexample) ?? '').slice(0, 2000)}`,
  );
}
const params = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true, reporter: report });

// ------------------------------------------------------------------ what a response may not contain

const STACK_TRACE = /\n\s+at \S/;
const INTERNAL_PATH = /\/work\/|node_modules|\/src\/|\/dist\/|\.ts:\d+|\.js:\d+/;
const SQL_OR_DRIVER = /\bSELECT\b[\s\S]{0,300}\bFROM\b|\bINSERT INTO\b|\bprisma\b|invocation|\$queryRaw|jsonb_to_recordset|ECONNREFUSED|violates .* constraint|duplicate key|syntax error at or near|invalid input syntax|invalid byte sequence|date\/time field value out of range|relation "|column "/i;

function allStrings(value: unknown, out: string[] = []): string[] {
  const pending = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) pending.push(x);
  }
  return out;
}

/** Removes what the request itself carried (echoed in error messages) before looking for leaks. */
function scrub(text: string, inputs: string[]): string {
  let out = text;
  for (const input of inputs) {
    if (input.length < 4) continue;
    for (const form of [input, JSON.stringify(input).slice(1, -1)]) if (out.includes(form)) out = out.split(form).join('');
  }
  return out;
}

interface Sent {
  status: number;
  text: string;
  json: any;
}

/** The invariants every response must satisfy; returns a description of the first violation. */
function violation(res: Sent, inputs: string[]): string | null {
  if (res.status >= 500) return `HTTP ${res.status}: ${res.text.slice(0, 500)}`;
  if (res.text.includes('INTERNAL_SERVER_ERROR')) return `INTERNAL_SERVER_ERROR from input alone: ${res.text.slice(0, 500)}`;
  if (Buffer.byteLength(res.text) > DEFAULT_LIMITS.maxResponseBytes) return `response of ${Buffer.byteLength(res.text)} bytes`;
  for (const e of Array.isArray(res.json?.errors) ? res.json.errors : []) {
    // Messages echo the caller's text: bounded, and never a schema suggestion (issue #13, the ReDoS in masking).
    if (typeof e?.message !== 'string' || e.message.length > MAX_ERROR_MESSAGE_LENGTH + TRUNCATED_MARK.length) return `unbounded error message (${e?.message?.length} characters)`;
    if (e.message.includes('Did you mean ')) return `suggestion in an error message: ${e.message.slice(0, 300)}`;
  }
  const scrubbedInputs = [...inputs, ...inputs.flatMap((i) => i.split('\n'))];
  const texts = res.json !== undefined ? allStrings(res.json) : [res.text];
  for (const t of texts) {
    const s = scrub(t, scrubbedInputs);
    if (STACK_TRACE.test(s)) return `stack trace: ${s.slice(0, 500)}`;
    if (INTERNAL_PATH.test(s)) return `internal path: ${s.slice(0, 500)}`;
    if (SQL_OR_DRIVER.test(s)) return `SQL or driver text: ${s.slice(0, 500)}`;
  }
  return null;
}

// ------------------------------------------------------------------ value generators

/** An enum value: a bare name in a GraphQL literal, a string in JSON variables. */
class EnumValue {
  constructor(readonly name: string) {}
}
type Value = null | boolean | number | string | EnumValue | Value[] | { [k: string]: Value };

function toJson(v: Value): unknown {
  if (v instanceof EnumValue) return v.name;
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

function toLiteral(v: Value): string {
  if (v === null) return 'null';
  if (v instanceof EnumValue) return /^[_A-Za-z][_0-9A-Za-z]*$/.test(v.name) ? v.name : JSON.stringify(v.name);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(toLiteral).join(', ')}]`;
  return `{ ${Object.entries(v).map(([k, x]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'junk_key'}: ${toLiteral(x)}`).join(', ')} }`;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const SQLISH = ["' OR '1'='1", "'; DROP TABLE finding; --", '") OR 1=1 --', '$1', '\\x00', '%00', "admin'--", '1; DELETE FROM scan', "' UNION ALL (SELECT 1)--"];
const DATE_EDGES = [
  '0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59-05:00', '2020-02-30T00:00:00Z',
  '2021-02-29T00:00:00Z', '2020-13-01T00:00:00Z', '2020-01-01T24:00:00Z', '2020-01-01T23:60:00Z', '2020-01-01', '2020-01-01T00:00:00', 'now', '',
  '1970-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2020-01-01T00:00:00.123456789Z', '2020-01-01t00:00:00z', '1e3',
];

const junkString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.nat({ max: 50_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength: 8 }), fc.nat({ max: 50_000 })).map(([s, n]) => (s || 'y').repeat(Math.ceil(n / Math.max(1, (s || 'y').length))).slice(0, n)) },
  { weight: 2, arbitrary: fc.constantFrom(...SQLISH, '\u0000', 'a\u0000b', '\uFFFF', '\uD800', '😀', ' ', '\n', 'null', 'undefined', '{}', '[]', '__proto__', 'constructor') },
);

const forgedCursor: fc.Arbitrary<string> = fc.oneof(
  fc.base64String({ maxLength: 60 }),
  fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
  fc.array(fc.oneof(junkString, fc.constantFrom(...DATE_EDGES), fc.uuid(), fc.constant('')), { maxLength: 3 }).map((a) => b64url(JSON.stringify(a))),
  fc.jsonValue({ maxDepth: 2 }).map((v) => b64url(JSON.stringify(v))),
  junkString,
);

const NODE_TYPES = ['Finding', 'IamUser', 'Scan', 'RemediationAction', 'AccessException', 'Nope', ''];
const forgedId: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.tuple(fc.constantFrom(...NODE_TYPES), fc.oneof(junkString, fc.uuid())).map(([t, id]) => b64url(`${t}:${id}`)),
  fc.tuple(fc.constantFrom(...NODE_TYPES), junkString).map(([t, id]) => `${t}:${id}`),
  fc.base64String({ maxLength: 40 }),
  junkString,
);

const isoDate = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
const recentIso = fc.integer({ min: -400, max: 10 }).map((days) => new Date(Date.now() + days * 86_400_000).toISOString());
const dateString: fc.Arbitrary<string> = fc.oneof(isoDate, recentIso, fc.constantFrom(...DATE_EDGES), junkString);

/** Values from the running server worth mixing in, so generated requests also hit real rows. */
interface Corpus {
  cursors: string[];
  ids: string[];
}

const PLAUSIBLE: Record<string, string[]> = {
  accountId: [ACCOUNT, '000000000000', '123456789012'],
  userName: users.map((u) => u.userName).concat(['root', '<root_account>', 'nobody']),
  accessKeyId: ['AKIAFUZZALICESETUP01', 'AKIAAAAAAAAAAAAAAAAA', 'AKIA'],
  controlId: ['iam-no-access-keys-at-initial-setup', 'nope'],
  id: ['iam-no-access-keys-at-initial-setup'],
};

function valueFor(type: GraphQLInputType, name: string, corpus: Corpus, depth = 0): fc.Arbitrary<Value> {
  const wrong: fc.Arbitrary<Value> = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }),
    junkString,
    fc.array(fc.oneof(junkString, fc.integer()), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 6 }), junkString, { maxKeys: 3 }),
    fc.constantFrom(new EnumValue('NOPE'), new EnumValue('fail'), new EnumValue('true')),
  );
  const right = rightValue(type, name, corpus, depth);
  return fc.oneof({ weight: 7, arbitrary: right }, { weight: 2, arbitrary: wrong });
}

function rightValue(type: GraphQLInputType, name: string, corpus: Corpus, depth: number): fc.Arbitrary<Value> {
  if (isNonNullType(type)) return rightValue(type.ofType, name, corpus, depth);
  if (isListType(type)) {
    const item = valueFor(type.ofType, name, corpus, depth + 1);
    return fc.oneof(fc.array(item, { maxLength: 4 }), item as fc.Arbitrary<Value>);
  }
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(type.getFields());
    const entries = fields.map((f) => fc.option(valueFor(f.type, f.name, corpus, depth + 1), { nil: undefined, freq: 2 }).map((v) => [f.name, v] as const));
    return fc.tuple(fc.tuple(...entries), fc.option(fc.tuple(fc.constantFrom('unknownField', 'first', 'id'), junkString), { nil: undefined })).map(([pairs, extra]) => {
      const obj: Record<string, Value> = {};
      for (const [k, v] of pairs) if (v !== undefined) obj[k] = v;
      if (extra) obj[extra[0]] = extra[1];
      return obj;
    });
  }
  if (isEnumType(type)) {
    return fc.oneof(fc.constantFrom(...type.getValues().map((v) => new EnumValue(v.name))), fc.constantFrom(new EnumValue('UNKNOWN_VALUE'), new EnumValue(type.getValues()[0].name.toLowerCase())));
  }
  const plausible = PLAUSIBLE[name] ? [fc.constantFrom(...PLAUSIBLE[name])] : [];
  switch (type.name) {
    case 'Int':
      return name === 'first'
        ? fc.oneof(fc.integer({ min: -5, max: 120 }), fc.constantFrom(0, 1, 100, 101, 2147483647, -2147483648), fc.constantFrom(2147483648, 1.5, 1e20))
        : fc.oneof(fc.integer({ min: -5, max: 120 }), fc.integer(), fc.constantFrom(2147483648, 1.5));
    case 'Float':
      return fc.double();
    case 'Boolean':
      return fc.boolean();
    case 'DateTime':
      return dateString;
    case 'ID':
      return fc.oneof(forgedId, ...(corpus.ids.length ? [fc.constantFrom(...corpus.ids)] : []), ...plausible);
    default:
      if (name === 'after') return fc.oneof(forgedCursor, ...(corpus.cursors.length ? [fc.constantFrom(...corpus.cursors)] : []), ...mutatedFrom(corpus.cursors));
      return fc.oneof({ weight: 3, arbitrary: junkString }, ...plausible.map((arbitrary) => ({ weight: 3, arbitrary })));
  }
}

function mutatedFrom(strings: string[]): fc.Arbitrary<string>[] {
  if (!strings.length) return [];
  return [fc.tuple(fc.constantFrom(...strings), fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([s, at, junk]) => s.slice(0, at % (s.length + 1)) + junk + s.slice((at % (s.length + 1)) + 1))];
}

/** A selection that reaches field resolvers two levels down, without arguments (so the cost stays modest). */
function selectionFor(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (isInterfaceType(named)) return '{ __typename id }';
  if (!isObjectType(named)) return '{ __typename }';
  const parts: string[] = ['__typename'];
  for (const field of Object.values(named.getFields())) {
    if (field.args.some(isRequiredArgument)) continue;
    const inner = getNamedType(field.type);
    if (isLeafType(inner)) parts.push(field.name);
    else if (depth < 2) parts.push(`${field.name} ${selectionFor(field.type, depth + 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

interface Call {
  query: string;
  variables: Record<string, unknown>;
  inputs: string[];
}

/** One call of `field` with generated arguments, sent as variables or inlined as literals. */
function callOf(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, corpus: Corpus, select: string): fc.Arbitrary<Call> {
  const args = field.args.map((a) => fc.tuple(fc.constant(a), fc.option(valueFor(a.type, a.name, corpus), { nil: undefined, freq: isRequiredArgument(a) ? 8 : 2 }), fc.boolean()));
  return fc.tuple(...args).map((chosen) => {
    const defs: string[] = [];
    const given: string[] = [];
    const variables: Record<string, unknown> = {};
    chosen.forEach(([arg, value, asVariable], i) => {
      if (value === undefined) return;
      if (asVariable) {
        defs.push(`$v${i}: ${String(arg.type)}`);
        given.push(`${arg.name}: $v${i}`);
        variables[`v${i}`] = toJson(value);
      } else {
        given.push(`${arg.name}: ${toLiteral(value)}`);
      }
    });
    const query = `${kind}${defs.length ? `(${defs.join(', ')})` : ''} { ${field.name}${given.length ? `(${given.join(', ')})` : ''} ${select} }`;
    return { query, variables, inputs: [query, ...allStrings(variables)] };
  });
}

// ------------------------------------------------------------------ the tests

describe('fuzzing the GraphQL endpoint (fast-check)', () => {
  let stack: Stack;
  let schema: GraphQLSchema;
  let log: MemoryLogger;
  let corpus: Corpus;
  let before: Awaited<ReturnType<typeof snapshotTables>>;
  let auditBefore: Set<string>;
  let idempotencyBefore: Set<string>;
  let baseline: string;
  const keysBefore = () => users.flatMap((u) => (u.accessKeys ?? []).map((k) => `${k.accessKeyId}:${stack.sandbox.state.findAccessKey(k.accessKeyId!)?.key.status ?? 'MISSING'}`));
  let keyStates: string[];
  const refusedActionIds = new Set<string>();
  let bulkRefusals = 0;
  /** Refusals by mutated documents whose selection no longer shows the action's id (counted, not by id). */
  let documentRefusals = 0;
  const stats = { documents: 0, requests: 0, reachedResolvers: 0 };
  const BASELINE_QUERY = `{ findings(first: 100) { totalCount nodes { id status reasons userName accessKeyId } } iamUsers { totalCount } scans { totalCount } }`;

  beforeAll(async () => {
    log = memoryLogger('warn');
    stack = await startStack(FIXTURE, { logger: log.logger, limits: { ratePerMinute: 1_000_000 } });
    expect((await stack.scan()).status).toBe('COMPLETED');
    schema = await keywardenSchema();
    const seed: any = await stack.gql(`{
      a: findings(first: 2) { nodes { id scan { id } } pageInfo { endCursor } }
      b: findings(first: 2, orderBy: { field: FIRST_SEEN_AT, direction: DESC }) { pageInfo { endCursor } }
      iamUsers(first: 2) { nodes { id } pageInfo { endCursor } }
      scans(first: 1) { pageInfo { endCursor } }
      remediationActions(first: 1) { pageInfo { endCursor } }
    }`);
    expect(seed.errors).toBeUndefined();
    corpus = {
      cursors: [seed.data.a.pageInfo.endCursor, seed.data.b.pageInfo.endCursor, seed.data.iamUsers.pageInfo.endCursor, seed.data.scans.pageInfo.endCursor, seed.data.remediationActions.pageInfo.endCursor].filter(Boolean),
      ids: [...seed.data.a.nodes.flatMap((n: any) => [n.id, n.scan.id]), ...seed.data.iamUsers.nodes.map((n: any) => n.id)],
    };
    baseline = JSON.stringify((await stack.gql(BASELINE_QUERY)).data);
    // The base credentials' account is recorded on first use (issue #9): recorded before the snapshot, it is not rewritten.
    await new AccountsService(stack.prisma, stack.aws).baseAccountId();
    before = await snapshotTables(stack.prisma, ['api_token.last_used_at']);
    auditBefore = new Set((await stack.prisma.remediationAction.findMany({ select: { id: true } })).map((r) => r.id));
    idempotencyBefore = new Set((await stack.prisma.idempotencyRecord.findMany({ select: { key: true } })).map((r) => r.key));
    keyStates = keysBefore();
  });
  afterAll(() => stack.close());

  async function post(body: string | Uint8Array | undefined, headers: Record<string, string>, method = 'POST', suffix = ''): Promise<Sent> {
    const res = await fetch(stack.server.url + suffix, { method, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers }, body });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    stats.requests++;
    return { status: res.status, text, json };
  }

  const gql = (call: Call) => post(JSON.stringify({ query: call.query, variables: call.variables }), { 'content-type': 'application/json' });

  /**
   * Counts the audited refusals a mutated document's response shows. Only SAFE_DEACTIVATE's mutants can run a
   * resolver that writes (createException's stays invalid twice over, revokeException's id names nothing): each
   * non-null root payload is one call of deactivateAccessKey, one REFUSED row; by id when the selection still has it.
   */
  function accountDocumentRefusals(query: string, res: Sent) {
    if (!query.includes('deactivateAccessKey') || !res.json?.data || typeof res.json.data !== 'object') return;
    for (const payload of Object.values(res.json.data as Record<string, any>)) {
      if (!payload || typeof payload !== 'object') continue;
      if (typeof payload.action?.id === 'string') refusedActionIds.add(localId(payload.action.id));
      else documentRefusals++;
    }
  }

  function assertClean(res: Sent, inputs: string[]) {
    const problem = violation(res, inputs);
    if (problem) throw new Error(problem);
  }

  it('queries: every root query field with generated, wrong-typed, huge, forged and out-of-range arguments', async () => {
    const queries = Object.values(schema.getQueryType()!.getFields());
    const calls = fc.oneof(...queries.map((f) => callOf('query', f, corpus, selectionFor(f.type))));
    await fc.assert(
      fc.asyncProperty(calls, async (call) => {
        stats.documents++;
        const res = await gql(call);
        assertClean(res, call.inputs);
        if (res.json?.data && Object.values(res.json.data).some((v) => v !== null)) stats.reachedResolvers++;
        else if (res.json?.errors?.some((e: any) => e.path)) stats.reachedResolvers++;
      }),
      params(400),
    );
    // The generator is not just producing parse errors: a good share of calls ran resolvers.
    expect(stats.reachedResolvers).toBeGreaterThan(400 * 0.25);
  }, 60_000);

  it('mutations: nonexistent ids, other accounts and malformed input only; refusals are data, audited as REFUSED', async () => {
    const otherAccount = fc.stringMatching(/^\d{12}$/).filter((a) => a !== ACCOUNT);
    const reason = fc.oneof(fc.constantFrom('', '   ', 'fuzz'), junkString);
    // A few shared keys, so that replays and reuse with another input happen on purpose.
    const sharedKey = fc.constantFrom('fuzz-shared-1', 'fuzz-shared-2', 'fuzz-shared-3');
    const idemKey = fc.option(fc.oneof(fc.uuid().map((u) => `fuzz-${u}`), sharedKey, fc.constantFrom('', ' '), junkString), { nil: undefined });
    const keyInput = fc.record({
      accountId: fc.oneof(otherAccount, junkString.filter((a) => a !== ACCOUNT)),
      userName: fc.oneof(fc.constantFrom(...PLAUSIBLE.userName), junkString),
      accessKeyId: fc.oneof(fc.constantFrom('AKIAFUZZALICESETUP01', 'AKIAFUZZNONEXISTENT1'), fc.stringMatching(/^AKIA[A-Z0-9]{16}$/), junkString),
      reason,
      dryRun: fc.boolean(),
      force: fc.boolean(),
      idempotencyKey: idemKey,
    });
    const ACTION = 'action { id status actor } userErrors { code field message }';
    const keyCall = fc.tuple(fc.constantFrom('deactivateAccessKey', 'reactivateAccessKey', 'deleteAccessKey'), keyInput, fc.boolean()).map(([name, input, asVariable]) => {
      const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Record<string, Value>;
      const query = asVariable
        ? `mutation($i: AccessKeyActionInput!) { ${name}(input: $i) { ${ACTION} } }`
        : `mutation { ${name}(input: ${toLiteral(clean)}) { ${ACTION} } }`;
      return { kind: 'key' as const, name, call: { query, variables: asVariable ? clean : {}, inputs: [query, ...allStrings(clean)] } };
    });
    const bulkCall = fc
      .record({
        findingIds: fc.oneof(fc.array(forgedId, { maxLength: 6 }), fc.nat({ max: 600 }).map((n) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`))),
        action: fc.oneof(fc.constantFrom(new EnumValue('DEACTIVATE'), new EnumValue('DELETE')), fc.constant(new EnumValue('REACTIVATE'))),
        reason,
        dryRun: fc.boolean(),
        idempotencyKey: fc.oneof(fc.uuid().map((u) => `fuzz-bulk-${u}`), sharedKey, fc.constantFrom('', ' '), junkString),
      })
      .map((input) => {
        const query = `mutation($i: RemediateFindingsInput!) { remediateFindings(input: $i) { results { findingId action { id status } userErrors { code } } userErrors { code field } } }`;
        const variables = { i: toJson(input as unknown as Value) };
        return { kind: 'bulk' as const, name: 'remediateFindings', call: { query, variables, inputs: [query, ...allStrings(variables)] } };
      });
    // Invalid at least twice over: in the past or beyond 366 days, and a malformed account.
    const exceptionCall = fc
      .record({
        accountId: junkString.filter((a) => !/^\d{12}$/.test(a)),
        userName: fc.oneof(fc.constantFrom(...PLAUSIBLE.userName), junkString),
        accessKeyId: fc.option(fc.oneof(fc.constantFrom('AKIAFUZZALICESETUP01'), junkString), { nil: null }),
        justification: fc.oneof(fc.constantFrom('', '  '), junkString),
        expiresAt: fc.oneof(
          fc.integer({ min: 1, max: 3_000_000 }).map((s) => new Date(Date.now() - s * 1000).toISOString()),
          fc.integer({ min: 367, max: 3000 }).map((d) => new Date(Date.now() + d * 86_400_000).toISOString()),
          fc.constantFrom(...DATE_EDGES),
        ),
      })
      .map((input) => {
        const query = 'mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id } userErrors { code field } } }';
        return { kind: 'exception' as const, name: 'createException', call: { query, variables: { i: input }, inputs: [query, ...allStrings(input)] } };
      });
    const revokeCall = forgedId.map((id) => {
      const query = 'mutation($i: RevokeExceptionInput!) { revokeException(input: $i) { exception { id } userErrors { code field } } }';
      return { kind: 'revoke' as const, name: 'revokeException', call: { query, variables: { i: { id } }, inputs: [query, id] } };
    });

    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: keyCall }, { weight: 2, arbitrary: bulkCall }, { weight: 2, arbitrary: exceptionCall }, { weight: 1, arbitrary: revokeCall }), async ({ kind, name, call }) => {
        stats.documents++;
        const res = await gql(call);
        assertClean(res, call.inputs);
        const payload = res.json?.data?.[name];
        if (!payload) return; // refused by GraphQL validation: no resolver ran
        if (kind === 'key') {
          expect(payload.userErrors.length).toBeGreaterThan(0);
          if (payload.action) {
            expect(payload.action.status).toBe('REFUSED');
            expect(payload.action.actor).toBe('bootstrap:KEYWARDEN_BOOTSTRAP_TOKEN (bootstrap)');
            refusedActionIds.add(localId(payload.action.id));
          }
        } else if (kind === 'bulk') {
          for (const r of payload.results) {
            expect(r.action).toBeNull();
            expect(r.userErrors.map((e: any) => e.code)).toEqual(['FINDING_NOT_FOUND']);
          }
          if (payload.userErrors.length > 0) {
            expect(payload.results).toEqual([]);
            bulkRefusals++; // every refusal is audited, a reused idempotency key's too
          }
        } else if (kind === 'exception') {
          expect(payload.exception).toBeNull();
          expect(payload.userErrors.length).toBeGreaterThan(0);
        } else {
          expect(payload).toEqual({ exception: null, userErrors: [expect.objectContaining({ code: 'EXCEPTION_NOT_FOUND' })] });
        }
      }),
      params(200),
    );
  }, 60_000);

  it('documents: SAFE_DEACTIVATE left valid by its edits writes one audited refusal, and the final check counts it (FUZZ_SEED=2 sent it unchanged)', async () => {
    const rows = () => stack.prisma.remediationAction.count();
    const counted = () => refusedActionIds.size + bulkRefusals + documentRefusals;
    // The exact request: the document unchanged, with junk variables (the operation declares none).
    const idLess = SAFE_DEACTIVATE.replace('action { id }', 'action { status }');
    for (const [query, variables] of [[SAFE_DEACTIVATE, { '<': '~hh_l' }], [idLess, undefined]] as const) {
      const [rows0, counted0] = [await rows(), counted()];
      const res = await post(JSON.stringify({ query, variables }), { 'content-type': 'application/json' });
      assertClean(res, [query]);
      expect(res.json.data.deactivateAccessKey.userErrors[0]).toEqual({ code: 'INVALID_INPUT' });
      accountDocumentRefusals(query, res);
      expect((await rows()) - rows0).toBe(1);
      expect(counted() - counted0).toBe(1);
    }
  });

  it('documents: valid ones mutated at random, deep nesting, alias and directive floods, fragment cycles, many operations', async () => {
    const safeMutations = [
      SAFE_DEACTIVATE,
      'mutation { createException(input: { accountId: "x", userName: "", justification: "", expiresAt: "2001-01-01T00:00:00Z" }) { exception { id } userErrors { code } } }',
      'mutation { revokeException(input: { id: "nope" }) { userErrors { code } } }',
    ];
    const valid = [
      ...rootOperations(schema).filter((o) => o.kind === 'query').map((o) => o.document),
      ...Object.values(schema.getQueryType()!.getFields()).filter((f) => !f.args.some(isRequiredArgument)).map((f) => `{ ${f.name} ${selectionFor(f.type)} }`),
      `query Q($f: FindingFilter, $n: Int, $a: String) { findings(filter: $f, first: $n, after: $a) { edges { cursor node { ...F } } } } fragment F on Finding { id status evidence { dataSource } }`,
      `{ a: findings(filter: { accountId: "${ACCOUNT}", status: [FAIL, PASS] }) { totalCount } b: iamUser(accountId: "${ACCOUNT}", userName: "alice") { accessKeys { accessKeyId } } }`,
      `{ complianceTrend(accountId: "${ACCOUNT}", from: "2020-01-01T00:00:00Z", to: "2020-02-01T00:00:00Z", interval: DAY) { at pass } }`,
      ...safeMutations,
    ];
    const edit = fc.tuple(fc.constantFrom('insert', 'delete', 'duplicate', 'replace', 'truncate'), fc.nat(), fc.nat({ max: 40 }), fc.oneof(fc.constantFrom('{', '}', '(', ')', '[', ']', ':', '$', '@', '!', '...', '"', '\\', '#', ',', '=', '|', '&', 'query', 'mutation', 'fragment', 'on', '__typename', '\u0000', '\n'), junkString));
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([doc, edits]) => {
      let d = doc;
      for (const [kind, at, len, s] of edits) {
        const i = at % (d.length + 1);
        if (kind === 'insert') d = d.slice(0, i) + s + d.slice(i);
        else if (kind === 'delete') d = d.slice(0, i) + d.slice(i + len);
        else if (kind === 'duplicate') d = d.slice(0, i + len) + d.slice(i, i + len) + d.slice(i + len);
        else if (kind === 'replace') d = d.slice(0, i) + s + d.slice(i + Math.max(1, s.length));
        else d = d.slice(0, i);
      }
      return d;
    });
    const structural = fc.oneof(
      fc.integer({ min: 1, max: 400 }).map((n) => `{ ${'scans { nodes { findings { nodes { scan { '.repeat(n)} id ${'} } } } } '.repeat(n)} }`),
      fc.integer({ min: 1, max: 30_000 }).map((n) => '{'.repeat(n) + '}'.repeat(n)),
      fc.integer({ min: 1, max: 3000 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`),
      fc.integer({ min: 1, max: 3000 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: findings { totalCount }`).join(' ')} }`),
      fc.integer({ min: 1, max: 500 }).map((n) => `{ controls ${'@include(if: true) '.repeat(n)} { id } }`),
      fc.integer({ min: 1, max: 500 }).map((n) => `{ ${'controls { id } '.repeat(n)} }`),
      fc.constant('fragment A on Query { ...B } fragment B on Query { ...A } { ...A }'),
      fc.constant('{ ...Unknown }'),
      fc.constant('query A { controls { id } } query A { controls { id } }'),
      fc.constant('subscription { findings { totalCount } }'),
      fc.constant('{ __schema { types { name fields { name } } } }'),
      fc.integer({ min: 1, max: 200 }).map((n) => Array.from({ length: n }, (_, i) => `query Q${i} { controls { id } }`).join(' ')),
      fc.integer({ min: 0, max: 48_000 }).map((n) => `{ control(id: "${'z'.repeat(n)}") { id } }`),
      // Caller text that made suggestion-stripping regexes backtrack quadratically (up to 4 s a request).
      fc.tuple(fc.integer({ min: 1, max: 7_000 }), fc.constantFrom('', '?', '"?')).map(([n, end]) => `{ findings(filter: { status: "${'Did you mean '.repeat(n)}${end}" }) { totalCount } }`),
      fc.integer({ min: 1, max: 7_000 }).map((n) => `{ findings(first: "${'Did you mean '.repeat(n)}?") { totalCount } node(id: "${'Did you mean "'.repeat(Math.min(n, 100))}") { id } }`),
      // Lists without `first`: aliased trends of up to 10,000 buckets each (30 of a year of HOURs made 59 MB).
      fc.tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom('HOUR', 'DAY', 'WEEK', 'MONTH'), fc.integer({ min: 1, max: 420 }), fc.boolean()).map(([n, interval, days, all]) => {
        const to = Date.parse('2026-06-01T00:00:00Z');
        const range = `from: "${new Date(to - days * 86_400_000).toISOString()}", to: "${new Date(to).toISOString()}"`;
        const fields = all ? 'at endsAt scans pass fail notApplicable error opened resolved meanTimeToResolveSeconds' : 'at';
        return `{ ${Array.from({ length: n }, (_, i) => `t${i}: complianceTrend(accountId: "${ACCOUNT}", ${range}, interval: ${interval}) { ${fields} }`).join(' ')} }`;
      }),
      fc.integer({ min: 1, max: 1000 }).map((n) => `query(${Array.from({ length: n }, (_, i) => `$v${i}: Int`).join(', ')}) { controls { id } }`),
    );
    const variables = fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('f', 'n', 'a', 'v0', 'x'), fc.jsonValue({ maxDepth: 2 })));
    const operationName = fc.option(fc.oneof(fc.constantFrom('Q', 'A', 'Q1', 'nope', ''), junkString), { nil: undefined, freq: 3 });
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 2, arbitrary: mutated }, { weight: 1, arbitrary: structural }), variables, operationName, async (query, vars, op) => {
        stats.documents++;
        const body = JSON.stringify({ query, variables: vars, operationName: op });
        if (Buffer.byteLength(body) > 99_000) return; // the body limit is tested in limits.test.ts
        const res = await post(body, { 'content-type': 'application/json' });
        assertClean(res, [query, ...allStrings(vars), ...(op ? [op] : [])]);
        accountDocumentRefusals(query, res);
      }),
      params(300),
    );
  }, 60_000);

  it('raw HTTP: binary junk, wrong JSON shapes, wrong content types, GET with junk query strings', async () => {
    const contentType = fc.option(
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql', 'application/graphql-response+json',
        'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/octet-stream', 'json', '*/*', ';;;'),
      { nil: undefined },
    );
    const deepJson = fc.integer({ min: 1, max: 20_000 }).map((n) => `{"query":"{ controls { id } }","variables":{"v":${'['.repeat(n)}${']'.repeat(n)}}}`);
    const jsonShapes = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.record({ query: fc.jsonValue({ maxDepth: 2 }), variables: fc.jsonValue({ maxDepth: 2 }), extensions: fc.jsonValue({ maxDepth: 2 }), operationName: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.constantFrom('{"query":"{ controls { id } }","variables":"{}"}', '{"query":"{ controls { id } }","extensions":{"persistedQuery":{"version":"x"}}}', '{"__proto__":{"query":"{ controls { id } }"}}', '{"query":"{ controls { id } }","query":"{ x }"}'),
      deepJson,
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.string({ unit: 'binary', maxLength: 500 }),
      jsonShapes,
      fc.constantFrom('', ' ', 'query={ controls { id } }', '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n--x--', '\uFEFF{"query":"{ controls { id } }"}'),
    );
    const post_ = fc.record({ body, contentType, preflight: fc.boolean() }).map((r) => ({ method: 'POST' as const, ...r }));
    const queryPart = fc.oneof(
      fc.tuple(fc.constantFrom('query', 'variables', 'operationName', 'extensions', 'x', ''), fc.oneof(junkString, fc.constantFrom('{ controls { id } }', 'mutation { startScan { scans { id } } }', '{ findings { totalCount } }', '{}', '[', 'null'))).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`),
      fc.constantFrom('%', '%ZZ', '%E0%A4%A', '&&&', '==', 'query[]=1', 'query[a]=b', 'query=%7B', '%00=%00', 'variables=%7B%22a%22%3A1%7D', 'a'.repeat(8000)),
    );
    const get = fc.record({ parts: fc.array(queryPart, { maxLength: 5 }), preflight: fc.boolean() }).map((r) => ({ method: 'GET' as const, ...r }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(post_, get), async (req) => {
        stats.documents++;
        let res: Sent;
        let inputs: string[];
        if (req.method === 'POST') {
          const headers: Record<string, string> = {};
          if (req.contentType) headers['content-type'] = req.contentType;
          if (req.preflight) headers['apollo-require-preflight'] = '1';
          res = await post(req.body, headers);
          inputs = typeof req.body === 'string' ? [req.body, ...allStrings(safeParse(req.body))] : [Buffer.from(req.body).toString('utf8')];
        } else {
          const suffix = req.parts.length ? `?${req.parts.join('&')}` : '';
          res = await post(undefined, req.preflight ? { 'apollo-require-preflight': '1' } : {}, 'GET', suffix);
          inputs = [suffix, ...req.parts.flatMap((p) => p.split(/[=&]/).map((x) => safeDecode(x)))];
        }
        assertClean(res, inputs);
      }),
      params(200),
    );
  }, 60_000);

  it('the credential report parser: malformed CSVs either parse into rows or throw CredentialReportParseError', () => {
    const header = CREDENTIAL_REPORT_COLUMNS.join(',');
    const goodRow = 'alice,arn:aws:iam::123456789012:user/alice,2024-01-01T00:00:00+00:00,true,2024-02-01T00:00:00+00:00,N/A,N/A,false,true,2024-01-01T00:01:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';
    const cell = fc.oneof(fc.constantFrom('', 'N/A', 'no_information', 'not_supported', 'true', 'FALSE', 'maybe', '2024-01-01T00:00:00+00:00', '2024-13-45', '"', '""', '"a,b"', '\r', '\n', ',', '\uFEFF'), junkString.map((s) => s.slice(0, 300)));
    const row = fc.array(cell, { minLength: 0, maxLength: CREDENTIAL_REPORT_COLUMNS.length + 3 }).map((cells) => cells.join(','));
    const headerVariant = fc.oneof(
      fc.constant(header),
      fc.shuffledSubarray([...CREDENTIAL_REPORT_COLUMNS]).map((cols) => cols.join(',')),
      fc.tuple(fc.constant(header), junkString).map(([h, extra]) => `${h},${extra}`),
      fc.constant(header.toUpperCase()),
      fc.constant(`\uFEFF${header}`),
    );
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    const document = fc.oneof(
      fc.tuple(headerVariant, fc.array(fc.oneof(row, fc.constant(goodRow)), { maxLength: 6 }), eol).map(([h, rows, nl]) => [h, ...rows].join(nl)),
      fc.tuple(fc.constant(`${header}\n${goodRow}`), fc.nat(), fc.constantFrom('"', ',', '\n', '\u0000', 'x', '')).map(([d, at, c]) => d.slice(0, at % d.length) + c + d.slice(at % d.length)),
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.uint8Array({ maxLength: 400 }),
      fc.constantFrom('', '\n\n', header, `${header}\n`, `"${header}`, `${header}\n"unterminated`),
    );
    let parsed = 0;
    let refused = 0;
    fc.assert(
      fc.property(document, (doc) => {
        try {
          const rows = parseCredentialReport(doc);
          expect(Array.isArray(rows)).toBe(true);
          for (const r of rows) {
            expect(typeof r.user === 'string' && r.user.length > 0).toBe(true);
            expect(typeof r.arn === 'string' && r.arn.length > 0).toBe(true);
            for (const d of [r.userCreationTime, r.passwordLastUsed, ...r.accessKeys.flatMap((k) => [k.lastRotated, k.lastUsedDate])]) {
              expect(d === null || (d instanceof Date && !Number.isNaN(d.getTime()))).toBe(true);
            }
            for (const b of [r.passwordEnabled, r.mfaActive]) expect(b === null || typeof b === 'boolean').toBe(true);
            expect(r.accessKeys.every((k) => typeof k.active === 'boolean')).toBe(true);
          }
          parsed++;
        } catch (err) {
          if (!(err instanceof CredentialReportParseError)) throw new Error(`not a CredentialReportParseError: ${(err as Error)?.name}: ${(err as Error)?.message}`);
          refused++;
        }
      }),
      params(400),
    );
    expect(parsed + refused).toBe(400);
    expect(parsed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('afterwards: /healthz answers, the data served is the same, IAM saw no write, the database is unchanged but for the audited refusals', async () => {
    expect(stats.documents).toBe(1100); // generated or mutated documents and variable sets sent as GraphQL requests (numRuns)
    expect(stats.requests).toBeGreaterThanOrEqual(1050);
    const health = await fetch(stack.server.url.replace(/\/graphql$/, '/healthz'));
    expect(health.status).toBe(200);
    expect(JSON.stringify((await stack.gql(BASELINE_QUERY)).data)).toBe(baseline);

    const calls = stack.sandbox.calls().byOperation;
    expect({ UpdateAccessKey: calls.UpdateAccessKey ?? 0, DeleteAccessKey: calls.DeleteAccessKey ?? 0 }).toEqual({ UpdateAccessKey: 0, DeleteAccessKey: 0 });
    expect(keysBefore()).toEqual(keyStates);

    // No unexpected error was logged while fuzzing (the server logs every masked error at level error).
    expect(log.lines().filter((l) => l.level === 50)).toEqual([]);

    const after = await snapshotTables(stack.prisma, ['api_token.last_used_at']);
    const { remediation_action: auditAfter, idempotency_record: idemAfter, ...restAfter } = after;
    const { remediation_action: _a, idempotency_record: _i, ...restBefore } = before;
    expect(restAfter).toEqual(restBefore);

    // remediation_action: exactly the refusals the responses showed (single-key ones by id, bulk ones counted).
    const added = await stack.prisma.remediationAction.findMany({ where: { id: { notIn: [...auditBefore] } } });
    expect(added.length).toBe(auditAfter.rows - before.remediation_action.rows);
    expect(added.every((r) => r.status === 'REFUSED' && r.actor === 'bootstrap:KEYWARDEN_BOOTSTRAP_TOKEN (bootstrap)' && r.completedAt !== null)).toBe(true);
    expect(added.filter((r) => r.accountId === ACCOUNT)).toEqual([]); // never the sandbox's account: IAM was never asked to act
    const addedIds = new Set(added.map((r) => r.id));
    for (const id of refusedActionIds) expect(addedIds.has(id)).toBe(true);
    expect(added.length).toBe(refusedActionIds.size + bulkRefusals + documentRefusals);
    expect(refusedActionIds.size).toBeGreaterThan(20); // the generator did reach the resolvers

    // idempotency_record: one completed row per accepted key, pointing only at those refusals.
    const keys = await stack.prisma.idempotencyRecord.findMany({ where: { key: { notIn: [...idempotencyBefore] } } });
    expect(keys.length).toBe(idemAfter.rows - before.idempotency_record.rows);
    for (const k of keys) {
      expect(k.completedAt).not.toBeNull();
      const answer = k.response as { actionIds: string[] };
      for (const id of answer.actionIds) expect(refusedActionIds.has(id)).toBe(true);
    }
  });
});

/** The row id inside a Relay global id (`RemediationAction:<uuid>`, base64url). */
function localId(globalId: string): string {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  expect(decoded).toMatch(/^RemediationAction:[0-9a-f-]{36}$/);
  return decoded.slice(decoded.indexOf(':') + 1);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** encodeURIComponent throws on lone surrogates; this encodes the UTF-8 bytes (U+FFFD for those) instead. */
function percentEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

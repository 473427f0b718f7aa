import type { ApolloServerPlugin } from '@apollo/server';
import { LRUCache } from 'lru-cache';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { CONTROLS } from '../../controls/registry';
import { MAX_BULK_FINDINGS } from '../../services/remediation.service';
import { bucketCount, MAX_BUCKETS, type TrendInterval } from '../../services/trends.service';
import { ErrorCode } from './errors';
import { DEFAULT_PAGE_SIZE } from './pagination';
import { MAX_NODE_IDS } from './node';

type Args = Record<string, unknown>;

/**
 * How many items each list field without `first` returns, per parent, for the cost estimate: its real size
 * where Keywarden knows it (trend buckets from the arguments, the controls, IAM's own limits), else an
 * estimate (said so) that the response-size bound backs up. Relay `edges`/`nodes` count 1: the
 * connection's `first` multiplies them. A test walks the schema: every list of objects must be here.
 */
export const LIST_SIZES: Record<string, number | ((args: Args) => number)> = {
  'Query.complianceTrend': trendBuckets,
  'Query.controls': CONTROLS.length,
  /** The ids asked for (the resolver refuses more than MAX_NODE_IDS, so a longer list costs one). */
  'Query.nodes': (args) => (Array.isArray(args.ids) ? (args.ids.length > MAX_NODE_IDS ? 1 : Math.max(1, args.ids.length)) : 1),
  'Control.mappings': Math.max(...CONTROLS.map((c) => c.mappings.length)),
  /** IAM allows two access keys per user. */
  'IamUser.accessKeys': 2,
  /** Estimate: one per key the user holds or held (resolved findings stay listed), and one for the user. */
  'IamUser.findings': 5,
  /** IAM allows 50 tags per user. */
  'IamUser.tags': 50,
  /** Estimate: most scans have none; one that could not read many users has one per user. */
  'Scan.errors': 50,
  /** The IAM operations a scan uses. */
  'IamCalls.byOperation': 10,
  'RemediateFindingsPayload.results': MAX_BULK_FINDINGS,
  /** Estimate: one per account asked for, an organization's size for allAccounts (the response bound backs it up). */
  'StartScanPayload.scans': 100,
  'StartScanPayload.skipped': 100,
  /** At most the eight change_event types. */
  'Webhook.events': 8,
  '*.userErrors': 8,
  '*.edges': 1,
  '*.nodes': 1,
};

/** complianceTrend: the buckets its arguments ask for; a range the resolver refuses costs one. */
function trendBuckets(args: Args): number {
  const { from, to, interval } = args as { from?: unknown; to?: unknown; interval?: TrendInterval };
  if (!(from instanceof Date) || !(to instanceof Date) || !interval || !(from.getTime() < to.getTime())) return 1;
  const count = bucketCount(from, to, interval);
  return count > MAX_BUCKETS ? 1 : Math.max(1, count);
}

/** The size of a list field (`Type.field`), or undefined when LIST_SIZES does not know it. */
export function listSize(type: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, args: Args, introspection: Record<string, number>): number | undefined {
  const size = LIST_SIZES[`${type.name}.${field.name}`] ?? LIST_SIZES[`*.${field.name}`] ?? introspection[`${type.name}.${field.name}`];
  return typeof size === 'function' ? size(args) : size;
}

/**
 * Introspection answers from memory and its lists are costed by the schema's real sizes (means per type, so
 * `types { fields }` is exact). Its units weigh a tenth: the standard introspection query (GraphiQL,
 * codegen) asks `ofType` seven levels deep where real types are two or three, so it is estimated far above
 * what it answers. With the contract schema (119 types): ~106,600 units for GraphiQL's query (with
 * inputValueDeprecation) against 6,428 values, 182 kB. A fifth (21,320) went over the default maxCost (20,000)
 * and GraphiQL could not load the schema; a tenth costs about 10,700 and leaves room for the schema to grow.
 * Aliased or nested amplifications stay refused (30 copies of `types { ...FullType }`: over 300,000).
 */
export const INTROSPECTION_WEIGHT = 1 / 10;

/** Introspection lists by the schema's real sizes (means per type: `types { fields }` is then exact). */
export function introspectionSizes(schema: GraphQLSchema): Record<string, number> {
  const types = Object.values(schema.getTypeMap());
  const mean = (counts: number[]) => (counts.length ? Math.ceil(counts.reduce((a, b) => a + b, 0) / counts.length) : 1);
  const withFields = types.filter((t) => isObjectType(t) || isInterfaceType(t));
  const fields = withFields.flatMap((t) => Object.values(t.getFields()));
  return {
    '__Schema.types': types.length,
    '__Schema.directives': schema.getDirectives().length,
    '__Type.fields': mean(withFields.map((t) => Object.keys(t.getFields()).length)),
    '__Type.interfaces': mean(withFields.map((t) => t.getInterfaces().length)),
    '__Type.possibleTypes': mean(types.filter(isAbstractType).map((t) => schema.getPossibleTypes(t).length)),
    '__Type.enumValues': mean(types.filter(isEnumType).map((t) => t.getValues().length)),
    '__Type.inputFields': mean(types.filter(isInputObjectType).map((t) => Object.keys(t.getFields()).length)),
    '__Field.args': mean(fields.map((f) => f.args.length)),
    '__Directive.args': mean(schema.getDirectives().map((d) => d.args.length)),
  };
}

/** Lists of objects the cost estimate has no size for (the meta-test's question). */
export function unsizedLists(schema: GraphQLSchema): string[] {
  const introspection = introspectionSizes(schema);
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isListType(getNullableType(field.type)) || isLeafType(getNamedType(field.type))) continue;
      if (field.args.some((a) => a.name === 'first')) continue;
      if (listSize(type, field, { from: new Date(0), to: new Date(3_600_000), interval: 'HOUR' }, introspection) === undefined) missing.push(`${type.name}.${field.name}`);
    }
  }
  return missing;
}

/**
 * Rejects, before execution, operations whose estimated size is too large. A paginated field costs `first`
 * (default 50) times what each item asks for; a list without `first` its size (LIST_SIZES) times that; any
 * other field 1 plus its children. One unit is about one value in the response.
 */
export function costLimit(schema: GraphQLSchema, maxCost: number): ApolloServerPlugin {
  const introspection = introspectionSizes(schema);
  const pageEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
    if (!field.args.some((a) => a.name === 'first')) return undefined;
    // Paging back, `last` is the page size (first keeps its schema default then).
    const first = typeof args.last === 'number' ? args.last : typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
    return 1 + Math.max(1, first) * Math.max(1, childComplexity);
  };
  const introspectionEstimator: ComplexityEstimator = ({ childComplexity, field }) =>
    field.name === '__schema' || field.name === '__type' ? 1 + Math.ceil(childComplexity * INTROSPECTION_WEIGHT) : undefined;
  const listEstimator: ComplexityEstimator = ({ type, args, childComplexity, field }) => {
    if (!isListType(getNullableType(field.type)) || isLeafType(getNamedType(field.type))) return undefined;
    // A list nobody sized (the meta-test fails first) is taken as a full page.
    const size = listSize(type, field, args, introspection) ?? DEFAULT_PAGE_SIZE;
    return 1 + size * Math.max(1, childComplexity);
  };
  // The estimate walks the document with its variables (3% of a 50-finding page's CPU); clients repeat the same
  // few operations and variables, so it is kept a while. Only short variable lists are keys, and not for long: a
  // trend without `to` grows a bucket at a time.
  const estimates = new LRUCache<string, number>({ max: 2_000, ttl: 60_000 });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation, queryHash }) {
          // Apollo calls this even when operationName matched no operation (it then refuses the request
          // itself); graphql-query-complexity would crash on an anonymous operation (HTTP 500).
          if (!operation) return;
          const variables = textOf(request.variables ?? {});
          const key = variables !== null && variables.length <= 2_048 ? `${queryHash}\u0000${request.operationName ?? ''}\u0000${variables}` : null;
          let cost = key === null ? undefined : estimates.get(key);
          if (cost === undefined) {
            try {
              cost = getComplexity({
                schema,
                query: document,
                operationName: request.operationName,
                variables: request.variables,
                estimators: [introspectionEstimator, pageEstimator, listEstimator, simpleEstimator({ defaultComplexity: 1 })],
              });
            } catch (err) {
              // getComplexity coerces the variables before Apollo does: an invalid one is the caller's error
              // (what Apollo itself answers: BAD_USER_INPUT, 400), not an unexpected one.
              if (err instanceof GraphQLError) throw new GraphQLError(err.message, { nodes: err.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } } });
              throw err;
            }
            if (key !== null) estimates.set(key, cost);
          }
          if (cost > maxCost) {
            throw new GraphQLError(`query too costly: estimated ${cost}, at most ${maxCost}; ask for smaller pages, shorter trends (fewer buckets) or fewer fields and nested lists`, {
              extensions: { code: 'QUERY_TOO_COSTLY', cost, maxCost, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** JSON text of caller-sent variables, or null: nested thousands deep (which JSON.parse accepts), stringify overflows the stack. */
function textOf(value: unknown): string | null {
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

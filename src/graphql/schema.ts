import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLInterfaceType, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ScopeAuthChecker } from './auth-checker';
import { fromGlobalId } from './common/node';
import { NodeResolver } from './common/node.resolver';
import { DateTimeScalar } from './common/scalars';
import { ControlsResolver } from './controls/controls.resolver';
import { FindingsResolver } from './findings/findings.resolver';
import { ScansResolver } from './scans/scans.resolver';
import { AccountComplianceResolver } from './summary/account-compliance.resolver';
import { ComplianceSummaryResolver } from './summary/compliance-summary.resolver';
import { IamUsersResolver } from './users/iam-users.resolver';
import { TrendsResolver } from './trends/trends.resolver';
import { RemediationResolver } from './remediation/remediation.resolver';
import { ExceptionsResolver, FindingEvidenceExceptionResolver, FindingExceptionResolver } from './exceptions/exceptions.resolver';
import { AccountsResolver } from './accounts/accounts.resolver';
import { WebhooksResolver } from './webhooks/webhooks.resolver';
import { FindingChangesResolver } from './changes/finding-changes.resolver';

export const RESOLVERS = [
  AccountsResolver,
  FindingsResolver,
  FindingChangesResolver,
  IamUsersResolver,
  ScansResolver,
  ComplianceSummaryResolver,
  AccountComplianceResolver,
  TrendsResolver,
  RemediationResolver,
  ExceptionsResolver,
  FindingExceptionResolver,
  FindingEvidenceExceptionResolver,
  ControlsResolver,
  NodeResolver,
  WebhooksResolver,
] as const;

let built: Promise<GraphQLSchema> | undefined;

/** Built once per process: type-graphql's metadata is global. */
export function keywardenSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: RESOLVERS,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: { forbidUnknownValues: false },
    authChecker: ScopeAuthChecker,
  }).then(describeRootTypes).then(synchronousNodeType);
  return built;
}

/**
 * type-graphql wraps every resolveType in an async function; graphql-js awaits it, graphql-jit (which executes the
 * API's operations) needs the type name at once. Node's type is in its global id, so it needs no await.
 */
function synchronousNodeType(schema: GraphQLSchema): GraphQLSchema {
  (schema.getType('Node') as GraphQLInterfaceType).resolveType = (value) => fromGlobalId((value as { id: string }).id).type;
  return schema;
}

/** type-graphql has no option for the root types' descriptions; every type has one (the schema linter checks). */
function describeRootTypes(schema: GraphQLSchema): GraphQLSchema {
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  if (query) query.description = 'What can be read: findings, users, scans, accounts, compliance, remediation records and exceptions. Needs findings:read.';
  if (mutation) mutation.description = 'What can be changed: scans (scans:write), remediations and exceptions (remediation:write). Expected failures are userErrors, not errors.';
  return schema;
}

/** The SDL committed as schema.graphql; sorted so the file only changes when the schema does. */
export async function printKeywardenSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await keywardenSchema()))}\n`;
}

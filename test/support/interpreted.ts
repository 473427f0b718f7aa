import { execute, parse, type ExecutionResult } from 'graphql';
import { AwsAccess } from '../../src/adapters/aws/aws-access';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { createContext, createServices } from '../../src/graphql/context';
import { keywardenSchema } from '../../src/graphql/schema';
import type { PrismaClient } from '../../src/generated/prisma/client';

/**
 * An operation run in-process by graphql-js (as an admin), on the same schema and database the server answers
 * from: what the server's compiled execution (graphql-jit) must match.
 */
export async function executeInterpreted(prisma: PrismaClient, query: string, variables?: Record<string, unknown>, operationName?: string): Promise<ExecutionResult> {
  const schema = await keywardenSchema();
  const services = createServices(prisma, { aws: new AwsAccess(), scanRequest: { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS }, recentUseDays: 30 });
  const principal = { kind: 'bootstrap' as const, id: 'bootstrap', name: 'test', scopes: ['admin' as const] };
  return execute({ schema, document: parse(query), variableValues: variables, operationName, contextValue: createContext(services, 'test', principal, 'test') });
}

/**
 * One SQL statement and its parameters. Read services build theirs with exported pure functions, so
 * the benchmark times the very statements the API runs, without Prisma, Apollo or HTTP around them.
 */
export interface Statement {
  sql: string;
  params: unknown[];
}

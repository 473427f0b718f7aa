/**
 * GET /exports/findings?format=ocsf|asff|csv|jsonl: the findings query's filters (accountIds, status, state,
 * asOf) as query parameters, streamed. Every parameter is checked, and the scans answering the filter resolved,
 * before the status line: bad input is a 400 naming the parameter, never a truncated body.
 */
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { callerKey, hasScope, type Principal } from '../auth/scopes';
import { COMPLIANCE_STATUSES, type ComplianceStatus } from '../domain/finding';
import { FINDING_STATES, type FindingState } from '../domain/lifecycle';
import { DateTimeScalar } from '../graphql/common/scalars';
import { InvalidInputError } from '../services/errors';
import { EXPORT_FORMATS, type ExportFormat, type ExportRequest, type ExportsService } from '../services/exports/exports.service';

/**
 * Exports one caller may have running at once (per API process). A client that stops reading holds its export
 * open with about two pages and the socket's buffers: 60 paused OCSF exports from one token held 167 MB, and the
 * rate limit alone let one token open 600 a minute. A GRC platform pulls one export at a time.
 */
export const MAX_EXPORTS_PER_CALLER = 4;

/** KEYWARDEN_EXPORT_IDLE_TIMEOUT_SECONDS' default, 120 s: an export whose client took nothing for this long is ended. */
export const DEFAULT_EXPORT_IDLE_TIMEOUT_MS = 120_000;

const PARAMETERS = new Set(['format', 'accountIds', 'status', 'state', 'asOf', 'array', 'bom']);

/** The export request a query string asks for; InvalidInputError naming the first parameter that is wrong. */
export function parseExportQuery(query: Record<string, unknown>): ExportRequest {
  for (const name of Object.keys(query)) if (!PARAMETERS.has(name)) throw new InvalidInputError(`unknown parameter ${name}: use ${[...PARAMETERS].join(', ')}`, name);
  const format = single(query, 'format');
  if (format === undefined) throw new InvalidInputError(`format is required: one of ${EXPORT_FORMATS.join(', ')}`, 'format');
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new InvalidInputError(`format must be one of ${EXPORT_FORMATS.join(', ')}`, 'format');
  const asOfText = single(query, 'asOf');
  return {
    format: format as ExportFormat,
    query: {
      accountIds: list(query, 'accountIds') ?? null,
      status: oneOf(query, 'status', COMPLIANCE_STATUSES) as ComplianceStatus[] | undefined,
      state: oneOf(query, 'state', FINDING_STATES) as FindingState[] | undefined,
    },
    asOf: asOfText === undefined ? null : instant(asOfText),
    array: bool(query, 'array'),
    bom: bool(query, 'bom'),
  };
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InvalidInputError(`${name} must be given once`, name);
  return v;
}

/** Repeated (`accountIds=a&accountIds=b`) or comma-separated (`accountIds=a,b`). */
function list(query: Record<string, unknown>, name: string): string[] | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  const values = (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === 'string' ? x.split(',') : [null]));
  if (values.some((x) => x === null)) throw new InvalidInputError(`${name} must be a comma-separated list`, name);
  return (values as string[]).map((x) => x.trim());
}

function oneOf(query: Record<string, unknown>, name: string, allowed: readonly string[]): string[] | undefined {
  const values = list(query, name);
  if (!values) return undefined;
  const wrong = values.find((v) => !allowed.includes(v));
  if (wrong !== undefined) throw new InvalidInputError(`${name} ${JSON.stringify(wrong.slice(0, 40))} is not one of ${allowed.join(', ')}`, name);
  return values;
}

function bool(query: Record<string, unknown>, name: string): boolean | undefined {
  const v = single(query, name);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidInputError(`${name} must be true or false`, name);
}

/** As the GraphQL DateTime scalar reads asOf (RFC 3339 with an offset, between years 1 and 9999). */
function instant(text: string): Date {
  try {
    return DateTimeScalar.parseValue(text) as Date;
  } catch {
    throw new InvalidInputError(`asOf must be an RFC 3339 date-time with an offset, e.g. 2026-11-28T10:00:00Z`, 'asOf');
  }
}

function badRequest(res: Response, err: InvalidInputError): void {
  res.status(400).json({ errors: [{ message: err.message, extensions: { code: 'BAD_USER_INPUT', ...(err.field ? { field: err.field } : {}) } }] });
}

/** The route handler; authentication and the rate limit run before it (server.ts). At most MAX_EXPORTS_PER_CALLER at once per caller. */
export function exportFindingsRoute(service: ExportsService, logger: Logger, requestIdOf: (res: Response) => string, idleTimeoutMs = DEFAULT_EXPORT_IDLE_TIMEOUT_MS) {
  const running = new Map<string, number>();
  return async (req: Request, res: Response): Promise<void> => {
    const principal = res.locals.principal as Principal;
    if (!hasScope(principal, 'findings:read')) {
      res.status(403).json({ errors: [{ message: 'this token lacks the findings:read scope', extensions: { code: 'FORBIDDEN' } }] });
      return;
    }
    const caller = callerKey(principal);
    const count = running.get(caller) ?? 0;
    if (count >= MAX_EXPORTS_PER_CALLER) {
      logger.warn({ requestId: requestIdOf(res), tokenId: principal.id, running: count }, 'export refused: too many running for this caller');
      res.status(429).setHeader('retry-after', '5').json({
        errors: [{ message: `at most ${MAX_EXPORTS_PER_CALLER} exports at once per token; finish or cancel one first`, extensions: { code: 'TOO_MANY_EXPORTS', maxExports: MAX_EXPORTS_PER_CALLER } }],
      });
      return;
    }
    running.set(caller, count + 1);
    try {
      await exportFindings(service, logger, requestIdOf, req, res, principal, idleTimeoutMs);
    } finally {
      const left = (running.get(caller) ?? 1) - 1;
      if (left > 0) running.set(caller, left);
      else running.delete(caller);
    }
  };
}

/** One export: filters checked and scans resolved before the status line, then streamed with backpressure. */
async function exportFindings(service: ExportsService, logger: Logger, requestIdOf: (res: Response) => string, req: Request, res: Response, principal: Principal, idleTimeoutMs: number): Promise<void> {
  const started = process.hrtime.bigint();
  let opened;
  let request: ExportRequest;
  try {
    request = parseExportQuery(req.query as Record<string, unknown>);
    opened = await service.open(request);
  } catch (err) {
    if (err instanceof InvalidInputError) return badRequest(res, err);
    throw err; // express's error handler answers 500 with a request id
  }
  res.status(200);
  res.setHeader('content-type', opened.contentType);
  res.setHeader('content-disposition', `attachment; filename="${opened.fileName}"`);
  res.setHeader('cache-control', 'no-store');
  // Express answers HEAD with the GET route: the headers (filters checked), and no page read for a body nobody gets.
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let outcome = 'completed';
  // A client that takes nothing (stopped reading, or gone without closing) would hold its pages and its caller's slot
  // until TCP gave up on it: the socket's inactivity timer ends the export instead.
  res.setTimeout(idleTimeoutMs, () => {
    outcome = 'idle timeout';
    res.destroy();
  });
  try {
    // pipeline waits for `drain` and, when the client goes away, destroys the body: no further page is read.
    await pipeline(opened.body, res);
  } catch (err) {
    if (outcome !== 'idle timeout') outcome = res.destroyed && (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'aborted by client' : 'failed';
    if (outcome === 'failed') logger.error({ requestId: requestIdOf(res), err }, 'export failed mid-stream');
    if (!res.destroyed) res.destroy();
  }
  logger.info(
    {
      requestId: requestIdOf(res), tokenId: principal.id, format: request.format, ...opened.progress(), outcome,
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    },
    'findings export',
  );
}

/**
 * Streamed exports of findings: the filters are checked (and the scans answering them resolved) before a
 * byte is written; then pages of the store's keyset are read one at a time, only when the consumer has
 * taken the previous one (Readable.from pulls; pipeline waits for `drain`). Memory stays one page deep
 * however many findings there are, and a consumer that goes away stops the reads.
 */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors';
import type { FindingQuery, FindingsService } from '../findings.service';
import { toAsff } from './asff.mapper';
import { toCsvRows } from './csv.mapper';
import { toExportRecord, type ExportRecord, type ExportSettings } from './export-record';
import { toOcsf } from './ocsf.mapper';

export const EXPORT_FORMATS = ['ocsf', 'asff', 'csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const DEFAULT_EXPORT_PAGE_SIZE = 500;
/** Findings formatted and written at a time. */
const SLICE = 100;
export const KEYWARDEN_VERSION = '0.1.0';

export interface ExportRequest {
  format: ExportFormat;
  query: Pick<FindingQuery, 'accountIds' | 'status' | 'state'>;
  asOf?: Date | null;
  /** ocsf and asff: one JSON array instead of one JSON object per line. Default: lines for ocsf, an array for asff. */
  array?: boolean;
  /** csv: begin with a UTF-8 byte order mark (default true: Excel reads UTF-8 without one as the local code page). */
  bom?: boolean;
}

export interface ExportOutcome {
  findings: number;
  pages: number;
}

export interface FindingExport {
  contentType: string;
  fileName: string;
  /** The body; reading it reads the pages. `done` settles when it ends or is destroyed. */
  body: Readable;
  /** Findings written and pages read so far. */
  progress(): ExportOutcome;
}

export interface ExportsSettings extends ExportSettings {
  pageSize?: number;
}

export class ExportsService {
  private readonly pageSize: number;

  constructor(
    private readonly findings: FindingsService,
    private readonly settings: ExportsSettings,
    private readonly logger?: Logger,
  ) {
    this.pageSize = settings.pageSize ?? DEFAULT_EXPORT_PAGE_SIZE;
  }

  /** Validates the request and resolves its scans (InvalidInputError naming the parameter), then returns the body, not yet read. */
  async open(request: ExportRequest, now = new Date()): Promise<FindingExport> {
    const writer = writerFor(request);
    const scope = await this.findings.exportScope(request.query, request.asOf ?? null);
    const outcome: ExportOutcome = { findings: 0, pages: 0 };
    const { pageSize, findings, settings, logger } = this;
    const read = (after: string | null) => {
      const page = findings.exportPage(scope, pageSize, after).then((p) => {
        outcome.pages += 1;
        logger?.debug({ page: outcome.pages, rows: p.nodes.length }, 'export page read');
        return p;
      });
      // Observed now, awaited later: a read ahead that fails while a slice is being written, or after the consumer
      // left, must not be an unhandled rejection (which ends the process). Awaiting it still throws.
      page.catch(() => undefined);
      return page;
    };
    async function* chunks(): AsyncGenerator<string> {
      // One page read ahead: the next page's query runs while this one is formatted and written (the database
      // wait was a third of an export's time). At most that one read is in flight when a consumer goes away.
      let next: ReturnType<typeof read> | null = read(null);
      let started = false;
      while (next) {
        const page: Awaited<ReturnType<typeof read>> = await next;
        next = page.hasNextPage ? read(page.nodes[page.nodes.length - 1].identity) : null;
        // Formatted and written a slice at a time: the text waiting for `drain` is a slice's, not a page's.
        const slices = Math.max(1, Math.ceil(page.nodes.length / SLICE));
        for (let i = 0; i < slices; i++) {
          const records = page.nodes.slice(i * SLICE, (i + 1) * SLICE).map((f) => toExportRecord(f, settings));
          const chunk = writer.page(records, !started, outcome.findings);
          started = true;
          outcome.findings += records.length;
          if (chunk) yield chunk;
        }
      }
      const tail = writer.end(outcome.findings);
      if (tail) yield tail;
    }
    const stamp = (request.asOf ?? now).toISOString().replace(/[-:]|\.\d{3}/g, '');
    return {
      contentType: writer.contentType,
      fileName: `keywarden-findings-${stamp}.${writer.extension}`,
      // Bytes, not objects: the buffer holds about one page (16 KiB is less than a page of any format).
      body: Readable.from(chunks(), { objectMode: false, highWaterMark: 16 * 1024 }),
      progress: () => ({ ...outcome }),
    };
  }
}

interface Writer {
  contentType: string;
  extension: string;
  /** One page's text; `first` when nothing was written before it, `written` findings so far. */
  page(records: ExportRecord[], first: boolean, written: number): string;
  end(written: number): string;
}

const NDJSON = 'application/x-ndjson; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

function writerFor(request: ExportRequest): Writer {
  const { format } = request;
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new InvalidInputError(`format must be one of ${EXPORT_FORMATS.join(', ')}`, 'format');
  if (request.array !== undefined && format !== 'ocsf' && format !== 'asff') throw new InvalidInputError(`array applies to the ocsf and asff formats, not ${format}`, 'array');
  if (request.bom !== undefined && format !== 'csv') throw new InvalidInputError(`bom applies to the csv format, not ${format}`, 'bom');
  switch (format) {
    case 'csv': {
      const bom = request.bom ?? true;
      return {
        contentType: 'text/csv; charset=utf-8; header=present',
        extension: 'csv',
        page: (records, first) => (first && bom ? '\uFEFF' : '') + (records.length || first ? toCsvRows(records, first) : ''),
        end: () => '',
      };
    }
    case 'jsonl':
      return lines('jsonl', (r) => r);
    case 'ocsf':
      return request.array ? array('ocsf.json', (r) => toOcsf(r, KEYWARDEN_VERSION)) : lines('ocsf.jsonl', (r) => toOcsf(r, KEYWARDEN_VERSION));
    case 'asff':
      // An array by default: what `aws securityhub batch-import-findings --findings file://…` takes.
      return request.array === false ? lines('asff.jsonl', (r) => toAsff(r)) : array('asff.json', (r) => toAsff(r));
  }
}

function lines(extension: string, map: (r: ExportRecord) => unknown): Writer {
  return {
    contentType: NDJSON,
    extension,
    page: (records) => records.map((r) => `${JSON.stringify(map(r))}\n`).join(''),
    end: () => '',
  };
}

function array(extension: string, map: (r: ExportRecord) => unknown): Writer {
  return {
    contentType: JSON_TYPE,
    extension,
    page: (records, first, written) => (first ? '[' : '') + records.map((r, i) => `${written + i > 0 ? ',' : ''}\n${JSON.stringify(map(r))}`).join(''),
    end: () => ']\n',
  };
}

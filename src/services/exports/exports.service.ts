/**
 * Streamed exports of findings: the filters are checked (and the scans answering them resolved) before a
 * byte is written; then pages of the store's keyset are read one at a time, only when the consumer has
 * taken the previous one (Readable.from pulls; pipeline waits for `drain`). Memory stays one page deep
 * however many findings there are, and a consumer that goes away stops the reads.
 */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors';
import { findingsOfPart, type FindingQuery, type FindingsService } from '../findings.service';
import { toAsff } from './asff.mapper';
import { CRLF, CSV_HEADER_ROW, toCsvLine } from './csv.mapper';
import { toExportRecord, type ExportRecord, type ExportSettings } from './export-record';
import { toOcsf } from './ocsf.mapper';

export const EXPORT_FORMATS = ['ocsf', 'asff', 'csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const DEFAULT_EXPORT_PAGE_SIZE = 500;
/** Bytes written at a time: a chunk is encoded straight into a buffer of this size, outside V8's heap. */
const CHUNK_BYTES = 64 * 1024;
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
      const page = findings.exportPageText(scope, pageSize, after).then((p) => {
        outcome.pages += 1;
        logger?.debug({ page: outcome.pages, rows: p.rows }, 'export page read');
        return p;
      });
      // Observed now, awaited later: a read ahead that fails while a page is being written, or after the consumer
      // left, must not be an unhandled rejection (which ends the process). Awaiting it still throws.
      page.catch(() => undefined);
      return page;
    };
    async function* chunks(): AsyncGenerator<Buffer> {
      // One page read ahead: the next page's query runs while this one is formatted and written (the database
      // wait was a third of an export's time). At most that one read is in flight when a consumer goes away.
      let next: ReturnType<typeof read> | null = read(null);
      const out = new ChunkWriter();
      out.write(writer.head);
      let full: Buffer | undefined;
      while (next) {
        const page: Awaited<ReturnType<typeof read>> = await next;
        next = page.after === null ? null : read(page.after);
        // A part's findings are read only when it is its turn: what lives while the page is written (and while the
        // next one is read) is its text, not its objects.
        for (const part of page.parts) {
          for (const finding of findingsOfPart(part)) {
            writer.record(toExportRecord(finding, settings), outcome.findings, out);
            outcome.findings += 1;
            while ((full = out.full.shift())) yield full;
          }
        }
      }
      out.write(writer.tail);
      out.end();
      while ((full = out.full.shift())) yield full;
    }
    const stamp = (request.asOf ?? now).toISOString().replace(/[-:]|\.\d{3}/g, '');
    return {
      contentType: writer.contentType,
      fileName: `keywarden-findings-${stamp}.${writer.extension}`,
      // Bytes, not objects: the buffer holds one chunk (16 KiB is less than a chunk).
      body: Readable.from(chunks(), { objectMode: false, highWaterMark: 16 * 1024 }),
      progress: () => ({ ...outcome }),
    };
  }
}

/**
 * Records' text encoded as UTF-8 into buffers of CHUNK_BYTES, each handed on whole when the next text does not fit.
 * No string of a whole chunk is made (a large object to V8 past 128 KiB, allocated in the old generation, which only
 * a full collection frees), nor a copy of one: each text is encoded once, into memory outside the heap. Texts are
 * written as they come (a JSON line and its newline apart): joining them first would copy each into a new string.
 */
class ChunkWriter {
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private size = 0;
  /** Chunks ready to be written, in order. */
  readonly full: Buffer[] = [];

  write(text: string): void {
    const room = this.buffer.length - this.size;
    // UTF-8 takes at most 3 bytes a UTF-16 unit: only text that might not fit is measured.
    if (text.length * 3 > room) {
      const bytes = Buffer.byteLength(text);
      if (bytes > room) {
        this.end();
        if (bytes > CHUNK_BYTES) this.buffer = Buffer.allocUnsafe(bytes); // a text larger than a chunk is one
      }
    }
    this.size += this.buffer.write(text, this.size);
  }

  /** Hands on what was written since the last chunk. */
  end(): void {
    if (this.size === 0) return;
    this.full.push(this.buffer.subarray(0, this.size));
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.size = 0;
  }
}

interface Writer {
  contentType: string;
  extension: string;
  /** What comes before the first record (a CSV header, an array's bracket), also when there is none. */
  head: string;
  /** Writes one record; `written` records came before it. */
  record(record: ExportRecord, written: number, out: ChunkWriter): void;
  /** What follows the last record. */
  tail: string;
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
        head: (bom ? '\uFEFF' : '') + CSV_HEADER_ROW,
        record: (r, _, out) => {
          out.write(toCsvLine(r));
          out.write(CRLF);
        },
        tail: '',
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
    head: '',
    record: (r, _, out) => {
      out.write(JSON.stringify(map(r)));
      out.write('\n');
    },
    tail: '',
  };
}

function array(extension: string, map: (r: ExportRecord) => unknown): Writer {
  return {
    contentType: JSON_TYPE,
    extension,
    head: '[',
    record: (r, written, out) => {
      out.write(written > 0 ? ',\n' : '\n');
      out.write(JSON.stringify(map(r)));
    },
    tail: ']\n',
  };
}

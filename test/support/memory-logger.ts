import { Writable } from 'node:stream';
import pino from 'pino';

export interface MemoryLogger {
  logger: pino.Logger;
  /** Everything written so far, exactly as pino serialised it. */
  text(): string;
  /** The parsed JSON lines. */
  lines(): Record<string, unknown>[];
}

/** A pino logger that writes its JSON lines to memory, so a test can read what the server logged. */
export function memoryLogger(level: pino.Level = 'info'): MemoryLogger {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = pino({ level }, stream);
  return {
    logger,
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

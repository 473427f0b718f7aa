import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Logs on stderr (stdout is the CLI's answer). On a terminal, one human-readable line per entry
 * (pino-pretty, in this process: no worker thread to lose lines at exit); otherwise JSON, one object per
 * line, for log collectors. KEYWARDEN_LOG_FORMAT (config.ts) overrides the choice.
 *
 * Redaction is a backstop: no code path logs credentials on purpose, and these paths never reach the
 * output if one ever does (pretty lines are made from the redacted JSON).
 */
export function createLogger(level: string, format: LogFormat = process.stderr.isTTY ? 'pretty' : 'json'): Logger {
  const destination =
    format === 'pretty'
      ? pretty({ destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' })
      : pino.destination(2);
  return pino(
    {
      level,
      // pid: `serve --processes N` writes N processes' lines to one stream.
      base: { service: 'keywarden', pid: process.pid },
      redact: {
        paths: [
          'authorization', '*.authorization', '*.Authorization', '*.headers.authorization', 'req.headers.authorization',
          '*.password', '*.secretAccessKey', '*.SecretAccessKey', '*.sessionToken', '*.token', 'token',
          'databaseUrl', '*.databaseUrl', 'bootstrapToken', '*.bootstrapToken', '*.credentials',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export type LogFormat = 'json' | 'pretty';

export type { Logger };

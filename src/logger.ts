import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs on stderr (stdout is the CLI's answer). Redaction is a backstop: no code
 * path logs credentials on purpose, and these paths never reach the output if one ever does.
 */
export function createLogger(level: string): Logger {
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
    pino.destination(2),
  );
}

export type { Logger };

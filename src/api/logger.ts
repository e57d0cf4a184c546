import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino'

/**
 * Fields pino blanks in every log line (STYLE.md: passwords, keys, secrets, authorization),
 * at the top level and one or two levels down (`req.headers.authorization`, `err.config`).
 */
export const REDACT_PATHS = [
  'password',
  'key',
  'secret',
  'token',
  'authorization',
  'cookie',
  'url',
  '*.password',
  '*.key',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.cookie',
  '*.url',
  '*.*.password',
  '*.*.authorization',
  '*.*.cookie',
]

/** The root logger of a server process: JSON lines, secrets redacted. Made once, in the CLI. */
export function createLogger(
  opts: { readonly level?: string; readonly destination?: DestinationStream } = {},
): PinoLogger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  )
}

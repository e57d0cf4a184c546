/**
 * The logger shape Coffer code depends on: the part of pino it uses, so that library code
 * can default to a silent logger and callers can pass a pino child tagged with a module or
 * an activity. Messages are constant; data goes in the object.
 */
export interface Logger {
  debug(obj: object, msg: string): void
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
  child(bindings: Record<string, unknown>): Logger
}

const noop = (): void => {}

/** A logger that drops everything: the default of library code. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
}

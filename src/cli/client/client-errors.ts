/**
 * Failures that only the client has: the server cannot be reached, or an activity it waited
 * for did not succeed. They carry their own exit code (the server's refusals arrive as
 * CofferError and keep the shared EXIT_CODE table).
 */
export class ClientExitError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Exit codes of the client commands beyond src/errors.ts's table (docs/CLI.md). */
export const CLIENT_EXIT = {
  activityFailed: 5,
  cannotConnect: 7,
} as const

/** The server did not answer (refused, unreachable, TLS or DNS failure). */
export class ConnectionError extends ClientExitError {
  constructor(url: string, why: string, options?: ErrorOptions) {
    super(CLIENT_EXIT.cannotConnect, `Cannot connect to ${url}: ${why}.`, options)
  }
}

/** An activity the command waited for ended in failure or was cancelled. */
export class ActivityFailedError extends ClientExitError {
  constructor(message: string) {
    super(CLIENT_EXIT.activityFailed, message)
  }
}

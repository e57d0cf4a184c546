/**
 * The few error classes Coffer throws on purpose. Each carries a stable snake_case `code`
 * (the API's `error.code`), a `message` that is a finished sentence for the user, and a
 * `cause` for operators. One table maps a code to an HTTP status and a CLI exit code.
 *
 * No secret (password, key, token, DSN, SQL with values) may reach a message: callers pass
 * names and IDs, never credentials.
 */

export const ERROR_CODES = [
  'invalid_input',
  'not_found',
  'refused',
  'not_admin',
  'env_inactive',
  'env_busy',
  'manual_not_allowed',
  'too_old',
  'unauthenticated',
  'repo_locked',
  'repo_wrong_password',
  'repo_not_found',
  'repo_exists',
  'repo_integrity',
  'backend',
  'capture_failed',
  'restore_failed',
  'no_space',
  'conflict',
  'forbidden',
  'operator_required',
  'throttled',
  'internal',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export class CofferError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A request the rules refuse (role, policy, state). Nothing was changed. */
export class RefusedError extends CofferError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/** The thing named does not exist. */
export class NotFoundError extends CofferError {
  constructor(message: string, options?: ErrorOptions) {
    super('not_found', message, options)
  }
}

/** Input that does not parse; `field` names what was wrong. */
export class InvalidInputError extends CofferError {
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super('invalid_input', message, options)
  }
}

/**
 * Stored data failed a hash or MAC check, or does not parse. `file` names the repository
 * file (e.g. `data/3f/3f2a…`, `snapshots/…`) so that an operator can find it.
 */
export class IntegrityError extends CofferError {
  constructor(
    readonly file: string,
    what: string,
    options?: ErrorOptions,
  ) {
    super('repo_integrity', `Repository file ${file} is damaged: ${what}.`, options)
  }
}

/**
 * A storage operation failed. `permanent` errors (not found, permission denied, no space)
 * are not retried by the retry wrapper; the others (timeouts, resets, 5xx) are.
 */
export class BackendError extends CofferError {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: ErrorOptions & { readonly code?: ErrorCode },
  ) {
    super(options?.code ?? 'backend', message, options)
  }
}

/** A bug: an invariant the code relies on does not hold. */
export class InternalError extends CofferError {
  constructor(message: string, options?: ErrorOptions) {
    super('internal', message, options)
  }
}

/** HTTP status for each code (RFC 9457 problem details carry the code and message). */
export const HTTP_STATUS = {
  invalid_input: 400,
  not_found: 404,
  refused: 403,
  not_admin: 403,
  env_inactive: 409,
  env_busy: 409,
  manual_not_allowed: 400,
  too_old: 400,
  unauthenticated: 401,
  repo_locked: 409,
  repo_wrong_password: 403,
  repo_not_found: 404,
  repo_exists: 409,
  repo_integrity: 500,
  backend: 502,
  capture_failed: 500,
  restore_failed: 500,
  no_space: 507,
  conflict: 409,
  forbidden: 403,
  operator_required: 403,
  throttled: 429,
  internal: 500,
} as const satisfies Record<ErrorCode, number>

/**
 * CLI exit codes, documented in `coffer help` and docs/CLI.md. 1 is a generic failure,
 * 2 a usage error (commander's own), the others say what a script may want to branch on.
 */
export const EXIT_CODE = {
  invalid_input: 2,
  not_found: 3,
  refused: 4,
  not_admin: 4,
  env_inactive: 4,
  env_busy: 4,
  manual_not_allowed: 4,
  too_old: 4,
  unauthenticated: 6,
  repo_locked: 11,
  repo_wrong_password: 12,
  repo_not_found: 10,
  repo_exists: 13,
  repo_integrity: 14,
  backend: 1,
  capture_failed: 5,
  restore_failed: 5,
  no_space: 15,
  conflict: 4,
  forbidden: 4,
  operator_required: 4,
  throttled: 4,
  internal: 70,
} as const satisfies Record<ErrorCode, number>

/** The message of any thrown value, for one-line reports. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message
  return String(e)
}

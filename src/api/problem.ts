import type { Context } from 'hono'
import { z } from 'zod'
import { CofferError, HTTP_STATUS, InvalidInputError, type ErrorCode } from '../errors.js'
import type { Logger } from '../lib/index.js'

const TITLES: Record<ErrorCode, string> = {
  invalid_input: 'Invalid input',
  not_found: 'Not found',
  refused: 'Refused',
  not_admin: 'Administrator role required',
  env_inactive: 'Environment not active',
  env_busy: 'Environment busy',
  manual_not_allowed: 'Manual snapshots not available',
  too_old: 'Snapshot too old',
  unauthenticated: 'Not signed in',
  repo_locked: 'Repository locked',
  repo_wrong_password: 'Repository key mismatch',
  repo_not_found: 'Repository not found',
  repo_exists: 'Repository exists',
  repo_integrity: 'Repository damaged',
  backend: 'Storage error',
  capture_failed: 'Capture failed',
  restore_failed: 'Restore failed',
  no_space: 'Not enough space',
  conflict: 'Conflict',
  forbidden: 'Forbidden',
  operator_required: 'Operator required',
  throttled: 'Too many attempts',
  internal: 'Internal error',
}

export interface ProblemBody {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: ErrorCode
  readonly field?: string
}

/** RFC 9457 problem details for an error code and a finished sentence. */
export function problem(code: ErrorCode, detail: string, field?: string): ProblemBody {
  return {
    type: `urn:coffer:problem:${code}`,
    title: TITLES[code],
    status: HTTP_STATUS[code],
    detail,
    code,
    ...(field ? { field } : {}),
  }
}

export function problemResponse(c: Context, body: ProblemBody): Response {
  return c.body(JSON.stringify(body), body.status as 400, {
    'content-type': 'application/problem+json',
  })
}

/** A zod failure as `invalid_input`, naming the first field at fault. */
export function fromZod(e: z.ZodError, where: 'body' | 'query' | 'path'): InvalidInputError {
  const first = e.issues[0]
  const field = first && first.path.length > 0 ? first.path.map(String).join('.') : where
  const detail = first ? `${field}: ${first.message}` : 'The request does not parse.'
  return new InvalidInputError(field, `Invalid ${where === 'path' ? 'path' : where}: ${detail}.`)
}

/**
 * The one error handler (STYLE.md): a CofferError becomes its problem details; anything else
 * is a bug, logged once here with its stack and answered with a bare 500.
 */
export function errorToResponse(e: unknown, c: Context, log: Logger): Response {
  if (e instanceof CofferError) {
    if (HTTP_STATUS[e.code] >= 500) log.error({ err: e, code: e.code }, 'request failed')
    return problemResponse(
      c,
      problem(e.code, e.message, e instanceof InvalidInputError ? e.field : undefined),
    )
  }
  if (e instanceof z.ZodError) return problemResponse(c, problemOf(fromZod(e, 'body')))
  log.error({ err: e }, 'unexpected error')
  return problemResponse(c, problem('internal', 'Internal error.'))
}

function problemOf(e: InvalidInputError): ProblemBody {
  return problem(e.code, e.message, e.field)
}

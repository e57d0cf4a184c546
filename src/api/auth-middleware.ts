import { getConnInfo } from '@hono/node-server/conninfo'
import type { MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { authenticateToken, checkCsrf } from '../control/index.js'
import { CofferError } from '../errors.js'
import type { ApiDeps, ApiEnv } from './api-deps.js'

export const SESSION_COOKIE = 'coffer_session'
export const CSRF_COOKIE = 'coffer_csrf'
export const CSRF_HEADER = 'x-csrf-token'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Finds who is asking: a bearer token (CLI, scripts) or the console's session cookie. A
 * cookie-authenticated request that changes something must carry the session's CSRF token
 * in `X-CSRF-Token` (the cookie alone is what a forged cross-site request would have;
 * SameSite=Strict is the first line, this the second). Unknown tokens are anonymous: the
 * route then answers 401 if it needs a user.
 */
export function authMiddleware(deps: ApiDeps): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    let address: string | undefined
    try {
      address = getConnInfo(c).remote.address
    } catch {
      address = undefined
    }
    c.set('address', address)
    c.set('actor', undefined)
    c.set('sessionToken', undefined)
    const header = c.req.header('authorization')
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header)
      if (!m)
        throw new CofferError(
          'unauthenticated',
          'The Authorization header must be "Bearer <token>".',
        )
      const actor = await authenticateToken(m[1]!, address, deps.control)
      if (!actor)
        throw new CofferError('unauthenticated', 'The token is unknown, revoked or expired.')
      c.set('actor', actor)
      return next()
    }
    const session = getCookie(c, SESSION_COOKIE)
    if (session) {
      const actor = await authenticateToken(session, address, deps.control)
      if (actor) {
        if (
          !SAFE_METHODS.has(c.req.method) &&
          !checkCsrf(session, c.req.header(CSRF_HEADER), deps.control)
        )
          throw new CofferError(
            'forbidden',
            'The request lacks the CSRF token of the session (X-CSRF-Token).',
          )
        c.set('actor', actor)
        c.set('sessionToken', session)
      }
    }
    return next()
  }
}

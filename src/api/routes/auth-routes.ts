import { deleteCookie, setCookie } from 'hono/cookie'
import { csrfTokenFor, endSession, login } from '../../control/index.js'
import { definePublicRoute, defineRoute, type Route } from '../api-route.js'
import { CSRF_COOKIE, SESSION_COOKIE } from '../auth-middleware.js'
import { Login, LoginResult, Me, userJson } from '../schemas/users.js'

export const authRoutes: readonly Route[] = [
  definePublicRoute({
    method: 'post',
    path: '/api/auth/login',
    summary: 'Sign in with a user name and password (throttled per user and per address)',
    tag: 'auth',
    body: Login,
    response: LoginResult,
    handler: async ({ body, c, control, deps }) => {
      const address = c.get('address')
      const r = await login(
        { name: body.user, password: body.password, ...(address ? { address } : {}) },
        control,
      )
      const expires = new Date(r.session.expiresAt ?? Date.now())
      if (body.cookie) {
        const csrf = csrfTokenFor(r.token, control)
        const opts = { path: '/', sameSite: 'Strict', secure: deps.tls, expires } as const
        setCookie(c, SESSION_COOKIE, r.token, { ...opts, httpOnly: true })
        setCookie(c, CSRF_COOKIE, csrf, { ...opts, httpOnly: false })
        return { csrf_token: csrf, expires_at: expires.toISOString(), user: userJson(r.user) }
      }
      return { token: r.token, expires_at: expires.toISOString(), user: userJson(r.user) }
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/auth/logout',
    summary: 'End the current session or revoke the token used',
    tag: 'auth',
    status: 204,
    handler: async ({ actor, c, control }) => {
      await endSession(actor, control)
      deleteCookie(c, SESSION_COOKIE, { path: '/' })
      deleteCookie(c, CSRF_COOKIE, { path: '/' })
      return undefined
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/auth/me',
    summary: 'Who is signed in (and the CSRF token of a console session)',
    tag: 'auth',
    response: Me,
    handler: async ({ actor, c, control }) => {
      const session = c.get('sessionToken')
      return {
        user: { id: actor.userId, name: actor.name, operator: actor.operator, created_at: '' },
        via: actor.via,
        ...(session ? { csrf_token: csrfTokenFor(session, control) } : {}),
      }
    },
  }),
]

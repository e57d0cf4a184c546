import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { CofferError, NotFoundError } from '../errors.js'
import type { TokenKind, TokenRow } from '../store/index.js'
import type { Actor } from './actor.js'
import { recordAudit } from './audit.js'
import type { ControlContext } from './context.js'
import { newRowId } from './ids.js'

/** Token prefix: makes a leaked token recognisable by secret scanners. */
const PREFIX = 'coffer_'

/** SHA-256 of a token, hex: what the store keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

function newToken(): string {
  return PREFIX + randomBytes(32).toString('base64url')
}

export interface TokenView {
  readonly id: string
  readonly name: string
  readonly kind: TokenKind
  readonly createdAt: string
  readonly lastUsedAt: string | null
  readonly expiresAt: string | null
}

function tokenView(r: TokenRow): TokenView {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
  }
}

/** Stores a new token for a user; returns it in clear (shown once) with its row. */
export async function issueToken(
  userId: string,
  kind: TokenKind,
  name: string,
  expiresAt: Date | null,
  ctx: ControlContext,
): Promise<{ token: string; view: TokenView }> {
  const token = newToken()
  const row: TokenRow = {
    id: newRowId(),
    user_id: userId,
    kind,
    name,
    hash: hashToken(token),
    created_at: ctx.now().toISOString(),
    last_used_at: null,
    expires_at: expiresAt?.toISOString() ?? null,
  }
  await ctx.store.db.insertInto('tokens').values(row).execute()
  return { token, view: tokenView(row) }
}

/** Creates a named API token for the actor (e.g. for cron on a host). */
export async function createApiToken(
  actor: Actor,
  input: { readonly name: string; readonly expiresInDays?: number },
  ctx: ControlContext,
): Promise<{ token: string; view: TokenView }> {
  const expires = input.expiresInDays
    ? new Date(ctx.now().getTime() + input.expiresInDays * 86_400_000)
    : null
  const issued = await issueToken(actor.userId, 'api', input.name, expires, ctx)
  await recordAudit(actor, { action: 'token.create', target: issued.view.id }, ctx)
  return issued
}

/** The actor's tokens and sessions (never the tokens themselves). */
export async function listTokens(actor: Actor, ctx: ControlContext): Promise<TokenView[]> {
  const rows = await ctx.store.db
    .selectFrom('tokens')
    .selectAll()
    .where('user_id', '=', actor.userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute()
  return rows.map(tokenView)
}

/** Revokes one of the actor's tokens (operators may revoke anyone's). */
export async function revokeToken(actor: Actor, id: string, ctx: ControlContext): Promise<void> {
  let q = ctx.store.db.deleteFrom('tokens').where('id', '=', id)
  if (!actor.operator) q = q.where('user_id', '=', actor.userId)
  const r = await q.executeTakeFirst()
  if (Number(r.numDeletedRows) === 0) throw new NotFoundError(`The token ${id} does not exist.`)
  await recordAudit(actor, { action: 'token.revoke', target: id }, ctx)
}

/**
 * Finds who a bearer token or session cookie belongs to; undefined when it is unknown or
 * expired. Records the last use at most once a minute, so reads stay reads.
 */
export async function authenticateToken(
  token: string,
  address: string | undefined,
  ctx: ControlContext,
): Promise<Actor | undefined> {
  if (!token.startsWith(PREFIX)) return undefined
  const row = await ctx.store.db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .select([
      'tokens.id as tokenId',
      'tokens.kind',
      'tokens.expires_at',
      'tokens.last_used_at',
      'users.id as userId',
      'users.name',
      'users.operator',
    ])
    .where('tokens.hash', '=', hashToken(token))
    .executeTakeFirst()
  if (!row) return undefined
  const now = ctx.now()
  if (row.expires_at && Date.parse(row.expires_at) <= now.getTime()) return undefined
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
    await ctx.store.db
      .updateTable('tokens')
      .set({ last_used_at: now.toISOString() })
      .where('id', '=', row.tokenId)
      .execute()
  }
  return {
    userId: row.userId,
    name: row.name,
    operator: row.operator === 1,
    tokenId: row.tokenId,
    via: row.kind === 'session' ? 'session' : 'token',
    ...(address ? { address } : {}),
  }
}

/** Ends the session or token that authenticated the actor (sign-out). */
export async function endSession(actor: Actor, ctx: ControlContext): Promise<void> {
  if (!actor.tokenId) throw new CofferError('invalid_input', 'There is no session to end.')
  await ctx.store.db.deleteFrom('tokens').where('id', '=', actor.tokenId).execute()
  await recordAudit(actor, { action: 'auth.logout' }, ctx)
}

/**
 * The CSRF token of a console session: an HMAC of the session token under a key derived
 * from the master key, so it needs no storage and cannot be forged without the session.
 */
export function csrfTokenFor(sessionToken: string, ctx: ControlContext): string {
  return createHmac('sha256', ctx.csrfKey).update(hashToken(sessionToken)).digest('base64url')
}

/** Constant-time check of a CSRF header against the session's token. */
export function checkCsrf(
  sessionToken: string,
  given: string | undefined,
  ctx: ControlContext,
): boolean {
  if (!given) return false
  const want = Buffer.from(csrfTokenFor(sessionToken, ctx))
  const got = Buffer.from(given)
  return want.length === got.length && timingSafeEqual(want, got)
}

import { CofferError, NotFoundError } from '../errors.js'
import { isUniqueViolation, type UserRow } from '../store/index.js'
import { requireOperator, type Actor } from './actor.js'
import { recordAudit } from './audit.js'
import type { ControlContext } from './context.js'
import { newRowId } from './ids.js'
import { checkThrottle, clearLoginFailures, recordLoginFailure } from './login-throttle.js'
import { hashPassword, verifyPassword } from './passwords.js'
import { issueToken, type TokenView } from './tokens.js'

export interface UserView {
  readonly id: string
  readonly name: string
  readonly operator: boolean
  readonly createdAt: string
}

function userView(r: UserRow): UserView {
  return { id: r.id, name: r.name, operator: r.operator === 1, createdAt: r.created_at }
}

async function userByName(name: string, ctx: ControlContext): Promise<UserRow> {
  const row = await ctx.store.db
    .selectFrom('users')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst()
  if (!row) throw new NotFoundError(`The user ${name} does not exist.`)
  return row
}

/** Creates a user (operators only). */
export async function createUser(
  actor: Actor,
  input: { readonly name: string; readonly password?: string; readonly operator?: boolean },
  ctx: ControlContext,
): Promise<UserView> {
  requireOperator(actor, 'create users')
  const row: UserRow = {
    id: newRowId(),
    name: input.name,
    password_hash: input.password
      ? await hashPassword(input.password, ctx.config.passwordCost)
      : null,
    operator: input.operator ? 1 : 0,
    created_at: ctx.now().toISOString(),
  }
  try {
    await ctx.store.db.insertInto('users').values(row).execute()
  } catch (e) {
    if (isUniqueViolation(e))
      throw new CofferError('conflict', `The user ${input.name} already exists.`, { cause: e })
    throw e
  }
  await recordAudit(
    actor,
    { action: 'user.create', target: input.name, detail: { operator: row.operator === 1 } },
    ctx,
  )
  return userView(row)
}

/** Creates the operator `admin` on first start (when the CLI was given a password). */
export async function ensureAdminUser(password: string, ctx: ControlContext): Promise<boolean> {
  const any = await ctx.store.db.selectFrom('users').select('id').limit(1).executeTakeFirst()
  if (any) return false
  try {
    await ctx.store.db
      .insertInto('users')
      .values({
        id: newRowId(),
        name: 'admin',
        password_hash: await hashPassword(password, ctx.config.passwordCost),
        operator: 1,
        created_at: ctx.now().toISOString(),
      })
      .execute()
  } catch (e) {
    // Another process started at the same moment and made it: fine.
    if (isUniqueViolation(e)) return false
    throw e
  }
  await recordAudit({ name: null }, { action: 'user.create', target: 'admin' }, ctx)
  return true
}

/** All users (operators), or only oneself. */
export async function listUsers(actor: Actor, ctx: ControlContext): Promise<UserView[]> {
  let q = ctx.store.db.selectFrom('users').selectAll().orderBy('name')
  if (!actor.operator) q = q.where('id', '=', actor.userId)
  return (await q.execute()).map(userView)
}

export async function getUser(actor: Actor, name: string, ctx: ControlContext): Promise<UserView> {
  if (!actor.operator && actor.name !== name) requireOperator(actor, 'see other users')
  return userView(await userByName(name, ctx))
}

/**
 * Changes a user's password or operator flag. Users change their own password; only
 * operators change others' or the operator flag. Changing a password ends the user's
 * sessions and tokens, as a stolen one must stop working.
 */
export async function updateUser(
  actor: Actor,
  name: string,
  input: { readonly password?: string; readonly operator?: boolean },
  ctx: ControlContext,
): Promise<UserView> {
  if (!actor.operator && (actor.name !== name || input.operator !== undefined))
    requireOperator(actor, 'change other users')
  const row = await userByName(name, ctx)
  if (input.operator === false && row.id === actor.userId)
    throw new CofferError('refused', 'You cannot remove your own operator role.')
  const hash = input.password
    ? await hashPassword(input.password, ctx.config.passwordCost)
    : undefined
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({
        ...(hash ? { password_hash: hash } : {}),
        ...(input.operator !== undefined ? { operator: input.operator ? 1 : 0 } : {}),
      })
      .where('id', '=', row.id)
      .execute()
    if (hash) {
      let q = trx.deleteFrom('tokens').where('user_id', '=', row.id)
      if (actor.tokenId) q = q.where('id', '!=', actor.tokenId)
      await q.execute()
    }
    await recordAudit(
      actor,
      {
        action: 'user.update',
        target: name,
        detail: {
          password: Boolean(hash),
          ...(input.operator !== undefined ? { operator: input.operator } : {}),
        },
      },
      ctx,
      trx,
    )
  })
  return userView(await userByName(name, ctx))
}

export async function deleteUser(actor: Actor, name: string, ctx: ControlContext): Promise<void> {
  requireOperator(actor, 'delete users')
  const row = await userByName(name, ctx)
  if (row.id === actor.userId) throw new CofferError('refused', 'You cannot delete yourself.')
  await ctx.store.db.deleteFrom('users').where('id', '=', row.id).execute()
  await recordAudit(actor, { action: 'user.delete', target: name }, ctx)
}

export interface LoginResult {
  readonly token: string
  readonly session: TokenView
  readonly user: UserView
}

/** Per password cost, a hash to check against when the user does not exist. */
const dummyHashes = new Map<string, Promise<string>>()

/**
 * Signs a user in: checks the throttle, the password (in constant time, and as long for an
 * unknown user as for a known one), and issues a session token valid for the session TTL.
 * Refusals do not say whether the user exists.
 */
export async function login(
  input: { readonly name: string; readonly password: string; readonly address?: string },
  ctx: ControlContext,
): Promise<LoginResult> {
  await checkThrottle(input.name, input.address, ctx)
  const row = await ctx.store.db
    .selectFrom('users')
    .selectAll()
    .where('name', '=', input.name)
    .executeTakeFirst()
  const cost = ctx.config.passwordCost
  const costKey = `${cost.N}/${cost.r}/${cost.p}`
  if (!dummyHashes.has(costKey)) dummyHashes.set(costKey, hashPassword('not a password', cost))
  const dummy = await dummyHashes.get(costKey)!
  const ok = await verifyPassword(input.password, row?.password_hash ?? dummy)
  const who = { name: input.name, ...(input.address ? { address: input.address } : {}) }
  if (!row || !row.password_hash || !ok) {
    await recordLoginFailure(input.name, input.address, ctx)
    await recordAudit(who, { action: 'auth.login_failed' }, ctx)
    throw new CofferError('unauthenticated', 'The user name or the password is wrong.')
  }
  await clearLoginFailures(input.name, ctx)
  const expires = new Date(ctx.now().getTime() + ctx.config.sessionTtlMs)
  const { token, view } = await issueToken(row.id, 'session', 'sign-in', expires, ctx)
  await recordAudit(who, { action: 'auth.login', detail: { session: view.id } }, ctx)
  return { token, session: view, user: userView(row) }
}

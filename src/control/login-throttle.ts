import { CofferError } from '../errors.js'
import type { ControlContext } from './context.js'

/**
 * Login throttling per user and per client address: after too many failures inside the
 * window, sign-ins for that key are refused until the window has passed since the first
 * failure. A success clears the user's counter (not the address's: one good password must
 * not reset a spray across many accounts).
 */
function keys(name: string, address: string | undefined): { key: string; max: 'user' | 'addr' }[] {
  const out: { key: string; max: 'user' | 'addr' }[] = [{ key: `user:${name}`, max: 'user' }]
  if (address) out.push({ key: `addr:${address}`, max: 'addr' })
  return out
}

/** Throws `throttled` when the user or the address is locked out. */
export async function checkThrottle(
  name: string,
  address: string | undefined,
  ctx: ControlContext,
): Promise<void> {
  const now = ctx.now().getTime()
  for (const { key } of keys(name, address)) {
    const row = await ctx.store.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst()
    if (row?.locked_until && Date.parse(row.locked_until) > now) {
      const minutes = Math.max(1, Math.ceil((Date.parse(row.locked_until) - now) / 60_000))
      throw new CofferError(
        'throttled',
        `Too many failed sign-ins; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      )
    }
  }
}

/** Counts a failure for the user and the address; locks a key at its limit. */
export async function recordLoginFailure(
  name: string,
  address: string | undefined,
  ctx: ControlContext,
): Promise<void> {
  const now = ctx.now()
  const { loginWindowMs, loginMaxFailuresPerUser, loginMaxFailuresPerAddress } = ctx.config
  for (const { key, max } of keys(name, address)) {
    const limit = max === 'user' ? loginMaxFailuresPerUser : loginMaxFailuresPerAddress
    await ctx.store.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('login_throttle')
        .selectAll()
        .where('key', '=', key)
        .executeTakeFirst()
      const fresh = !row || now.getTime() - Date.parse(row.window_start) > loginWindowMs
      const failures = fresh ? 1 : row.failures + 1
      const windowStart = fresh ? now.toISOString() : row.window_start
      const lockedUntil =
        failures >= limit ? new Date(now.getTime() + loginWindowMs).toISOString() : null
      await trx
        .insertInto('login_throttle')
        .values({ key, failures, window_start: windowStart, locked_until: lockedUntil })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures,
            window_start: windowStart,
            locked_until: lockedUntil,
          }),
        )
        .execute()
    })
  }
}

export async function clearLoginFailures(name: string, ctx: ControlContext): Promise<void> {
  await ctx.store.db.deleteFrom('login_throttle').where('key', '=', `user:${name}`).execute()
}

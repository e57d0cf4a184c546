import type { ApiClient } from './api-client.js'
import { ActivityJson, parseAs, type Activity } from './api-types.js'
import type { ClientContext } from './client-context.js'
import { ActivityFailedError } from './client-errors.js'
import { followActivity } from './activity-wait.js'

/**
 * After a request started an activity: with --no-wait, print its ID on stdout and return at
 * once; otherwise follow it to the end. A failed or cancelled activity is an error (exit 5)
 * carrying the server's message.
 */
export async function waitOrReturn(
  client: ApiClient,
  answer: unknown,
  ctx: ClientContext,
  wait: boolean,
): Promise<Activity | undefined> {
  const activity = parseAs(ActivityJson, answer, 'activity')
  if (!wait) {
    ctx.out(activity.id)
    return undefined
  }
  const done = await followActivity(client, activity, {
    write: (s) => process.stderr.write(s),
    interactive: ctx.interactive,
    quiet: ctx.quiet,
    signal: ctx.signal,
    now: ctx.now,
  })
  if (done.state === 'cancelled')
    throw new ActivityFailedError(`The activity ${done.id} was cancelled.`)
  if (done.result !== 'success')
    throw new ActivityFailedError(done.error?.message ?? `The activity ${done.id} failed.`)
  return done
}

/** Without a terminal, a waiting command suggests --no-wait (cron jobs should not block). */
export function adviseNoWait(ctx: ClientContext, wait: boolean): void {
  if (wait && !ctx.canPrompt && !ctx.quiet)
    ctx.err('Tip: add --no-wait to return at once when running from cron or a script.')
}

import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import { readActivity, readLog, type ActivityView } from '../control/index.js'
import type { ApiDeps, ApiEnv } from './api-deps.js'
import { activityJson } from './schemas/activities.js'

const KEEPALIVE_MS = 15_000

/**
 * Server-Sent Events of one activity (whose access the route checked): `log` events (one per
 * line, `id` = its sequence number, so a reconnecting client resumes with Last-Event-ID),
 * `activity` events when its state or progress changes, and `end` once it has finished and
 * every line was sent. The store is polled, so the activity may run in any process.
 */
export function activityStream(c: Context<ApiEnv>, activityId: string, deps: ApiDeps): Response {
  const lastId = Number(c.req.header('last-event-id') ?? c.req.query('after') ?? '0')
  const response = streamSSE(c, async (stream) => {
    let after = Number.isFinite(lastId) && lastId > 0 ? lastId : 0
    let lastState = ''
    let lastBeat = Date.now()
    const poll = deps.streamPollMs ?? 300
    const aborted = (): boolean => stream.aborted || stream.closed
    while (!aborted()) {
      const activity: ActivityView | undefined = await readActivity(activityId, deps.control)
      if (!activity) break
      for (;;) {
        const lines = await readLog(activityId, after, 500, deps.control)
        for (const l of lines) {
          await stream.writeSSE({ event: 'log', id: String(l.seq), data: JSON.stringify(l) })
          after = l.seq
        }
        if (lines.length < 500) break
      }
      const json = activityJson(activity)
      const state = JSON.stringify([
        json.state,
        json.progress,
        json.cancel_requested,
        json.updated_at,
      ])
      if (state !== lastState) {
        await stream.writeSSE({ event: 'activity', data: JSON.stringify(json) })
        lastState = state
      }
      if (activity.state === 'complete' || activity.state === 'cancelled') {
        // Lines written between our last read and the final state: read once more.
        for (const l of await readLog(activityId, after, 10_000, deps.control))
          await stream.writeSSE({ event: 'log', id: String(l.seq), data: JSON.stringify(l) })
        await stream.writeSSE({
          event: 'end',
          data: JSON.stringify({ state: json.state, result: json.result }),
        })
        break
      }
      if (Date.now() - lastBeat > KEEPALIVE_MS) {
        await stream.write(': keep-alive\n\n')
        lastBeat = Date.now()
      }
      await stream.sleep(poll)
    }
  })
  // streamSSE says `no-cache`; API answers say `no-store` (app.ts), set here on the fresh
  // response rather than by the app on a finished one, which Hono would copy whole.
  response.headers.set('cache-control', 'no-store')
  return response
}

import { setTimeout as sleep } from 'node:timers/promises'
import type { ApiClient } from './api-client.js'
import { ActivityJson, LogLineJson, parseAs, type Activity } from './api-types.js'
import { formatElapsed } from './table-output.js'

/** Where waiting output goes and how it looks. */
export interface WaitDisplay {
  /** stderr: narrative, log lines, progress. */
  readonly write: (text: string) => void
  /** A terminal: redraw a live progress bar; otherwise plain lines only. */
  readonly interactive: boolean
  /** No narrative at all (the result is still printed by the command). */
  readonly quiet: boolean
  readonly signal: AbortSignal
  readonly now: () => number
}

const BAR_WIDTH = 28
const RECONNECTS = 20

const finished = (a: Activity): boolean => a.state === 'complete' || a.state === 'cancelled'

/** `[=====>      ] 12 secs (45%)`; full when the activity has finished. */
export function progressBar(a: Activity, elapsedMs: number): string {
  if (finished(a))
    return `[${'='.repeat(BAR_WIDTH)}] ${formatElapsed(elapsedMs)} (${a.state === 'cancelled' ? 'cancelled' : 'complete'})`
  const pct = a.progress.percent
  const filled = pct === null ? 0 : Math.min(BAR_WIDTH - 1, Math.floor((pct / 100) * BAR_WIDTH))
  const bar = `${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled - 1)}`
  const what = a.state === 'pending' ? 'pending' : pct === null ? 'in progress' : `${pct}%`
  return `[${bar}] ${formatElapsed(elapsedMs)} (${what})`
}

/** How long a finished activity ran, by the server's clock. */
function ranFor(a: Activity): number | undefined {
  const start = Date.parse(a.started_at ?? a.created_at)
  const end = a.completed_at ? Date.parse(a.completed_at) : NaN
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : undefined
}

/** The line that closes the wait: succeeded, failed or cancelled. */
export function outcomeLine(a: Activity): string {
  if (a.state === 'cancelled') return `Activity ${a.id} was cancelled`
  return a.result === 'success' ? `Activity ${a.id} succeeded` : `Activity ${a.id} failed`
}

/**
 * Follows an activity until it has finished, printing as the PaaS CLI does:
 * "Waiting for the activity ID (description):", its log lines, a progress bar (redrawn on a
 * terminal, printed once at the end otherwise), then "Activity ID succeeded|failed". Reads
 * the activity's event stream and resumes after the last line seen if the stream drops.
 * Resolves to the finished activity; whether a failure is an error is the caller's call.
 */
export async function followActivity(
  client: ApiClient,
  start: Activity,
  display: WaitDisplay,
): Promise<Activity> {
  const { write, interactive, quiet } = display
  const began = display.now()
  let activity = start
  let after = 0
  let barShown = false
  const say = (text: string): void => {
    if (quiet) return
    if (interactive && barShown) write('\r\x1b[K')
    write(`${text}\n`)
    if (interactive && barShown) drawBar()
  }
  const drawBar = (): void => {
    if (quiet || !interactive) return
    write(`\r\x1b[K${progressBar(activity, display.now() - began)}`)
    barShown = true
  }
  say(`Waiting for the activity ${activity.id} (${activity.description}):`)
  const ticker = interactive && !quiet ? setInterval(drawBar, 1000) : undefined
  const base = `/api/projects/${encodeURIComponent(start.project)}/activities/${encodeURIComponent(start.id)}`
  try {
    drawBar()
    for (let attempt = 0; !finished(activity); attempt++) {
      try {
        for await (const ev of client.events(`${base}/stream`, {
          query: { after },
          signal: display.signal,
        })) {
          if (ev.event === 'log') {
            const line = parseAs(LogLineJson, JSON.parse(ev.data), 'log line')
            if (line.seq <= after) continue
            after = line.seq
            say(line.line)
          } else if (ev.event === 'activity') {
            activity = parseAs(ActivityJson, JSON.parse(ev.data), 'activity')
            drawBar()
          } else if (ev.event === 'end') break
        }
      } catch (e) {
        if (display.signal.aborted || attempt >= RECONNECTS) throw e
      }
      if (!finished(activity)) {
        activity = parseAs(ActivityJson, await client.request('GET', base), 'activity')
        if (!finished(activity))
          await sleep(Math.min(250 * (attempt + 1), 2000), undefined, { signal: display.signal })
      }
    }
  } finally {
    if (ticker) clearInterval(ticker)
  }
  if (!quiet) {
    if (interactive && barShown) write('\r\x1b[K')
    write(`${progressBar(activity, ranFor(activity) ?? display.now() - began)}\n`)
    write(`${outcomeLine(activity)}\n`)
  }
  return activity
}

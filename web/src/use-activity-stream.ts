import { useEffect, useState } from 'react'
import { p } from './api-client.js'
import type { Activity, LogLine } from './api-types.js'

export interface ActivityFeed {
  readonly activity: Activity | undefined
  readonly lines: readonly LogLine[]
  readonly ended: boolean
  /** Set when the stream could not be opened or broke off for good. */
  readonly error: string | undefined
}

function parse<T>(data: unknown): T | undefined {
  if (typeof data !== 'string') return undefined
  try {
    return JSON.parse(data) as T
  } catch {
    return undefined
  }
}

/**
 * Follows an activity through the API's Server-Sent Events: `activity` (state, progress),
 * `log` (one line each) and `end`. EventSource reconnects by itself and resumes after the
 * last line it got (Last-Event-ID), so a dropped connection loses nothing.
 */
export function useActivityStream(
  project: string,
  id: string | undefined,
  onEnd?: (a: Activity | undefined) => void,
): ActivityFeed {
  const [feed, setFeed] = useState<ActivityFeed>({
    activity: undefined,
    lines: [],
    ended: false,
    error: undefined,
  })
  useEffect(() => {
    setFeed({ activity: undefined, lines: [], ended: false, error: undefined })
    if (!id) return
    const source = new EventSource(p`/api/projects/${project}/activities/${id}/stream`)
    let last: Activity | undefined
    source.addEventListener('activity', (e) => {
      const a = parse<Activity>(e.data)
      if (!a) return
      last = a
      setFeed((f) => ({ ...f, activity: a }))
    })
    source.addEventListener('log', (e) => {
      const l = parse<LogLine>(e.data)
      if (!l) return
      setFeed((f) =>
        f.lines.length > 0 && f.lines[f.lines.length - 1]!.seq >= l.seq
          ? f
          : { ...f, lines: [...f.lines, l] },
      )
    })
    source.addEventListener('end', () => {
      source.close()
      setFeed((f) => ({ ...f, ended: true }))
      onEnd?.(last)
    })
    source.onerror = () => {
      // CLOSED: the server refused the stream (e.g. the session ended); CONNECTING: it retries.
      if (source.readyState === EventSource.CLOSED)
        setFeed((f) => ({ ...f, error: 'The activity’s live log could not be followed.' }))
    }
    return () => source.close()
    // onEnd is a callback of the caller's render; the stream depends on what it follows.
  }, [project, id])
  return feed
}

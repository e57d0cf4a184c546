import { p } from '../api-client.js'
import type { Page, RepositorySizeSample } from '../api-types.js'
import { BarChart, type Bar } from '../bar-chart.js'
import { formatBytes, formatTime } from '../format.js'
import { useApi, useLoad } from '../use-load.js'

/** How far back the chart looks. */
export const SIZE_HISTORY_DAYS = 30
/** Up to this many samples, one bar each; beyond, the last sample of each day. */
const MAX_BARS = 60

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`

function bar(s: RepositorySizeSample, label: string): Bar {
  return {
    label,
    value: s.stored_bytes,
    detail:
      `${plural(s.packs, 'pack')}; ${plural(s.snapshots, 'snapshot')}, ` +
      `${formatBytes(s.snapshot_bytes)} before deduplication`,
  }
}

/**
 * The bars of a repository's size history (samples oldest first, at most one a minute): one
 * per sample while they are few, else one per day (its last sample), so that a month of
 * hourly backups still draws as bars.
 */
export function repositorySizeBars(samples: readonly RepositorySizeSample[]): Bar[] {
  if (samples.length <= MAX_BARS)
    return samples.map((s) => bar(s, formatTime(s.taken_at).slice(0, 16)))
  const lastOfDay = new Map<string, RepositorySizeSample>()
  for (const s of samples) lastOfDay.set(s.taken_at.slice(0, 10), s)
  return [...lastOfDay].map(([day, s]) => bar(s, day))
}

/** A project's repository size over the last 30 days, with its figures as a table. */
export function RepositorySizeChart({ project }: { project: string }) {
  const api = useApi()
  const path = p`/api/projects/${project}/repository/history` + `?days=${SIZE_HISTORY_DAYS}`
  const [history] = useLoad((signal) => api.get<Page<RepositorySizeSample>>(path, signal), path)
  if (history.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading the repository’s size history…
      </p>
    )
  if (history.state === 'error')
    return (
      <p className="error" role="alert">
        {history.message}
      </p>
    )
  return (
    <BarChart
      title={`Repository size, ${project}`}
      bars={repositorySizeBars(history.data.items)}
      format={formatBytes}
    />
  )
}

import { p } from './api-client.js'
import type { Activity, Backup, Environment, Page, Project } from './api-types.js'
import { BarChart, type Bar } from './bar-chart.js'
import { formatBytes, formatDuration, formatTime } from './format.js'
import { useApi, useLoad } from './use-load.js'

const day = (iso: string): string => formatTime(iso).slice(0, 16)

/** Charts of an environment: snapshot sizes over time, durations of backups and restores. */
export function InsightsView({
  project,
  environment,
}: {
  project: Project
  environment: Environment
}) {
  const api = useApi()
  const base = p`/api/projects/${project.id}/environments/${environment.name}`
  const [data] = useLoad(async (signal) => {
    const [backups, activities] = await Promise.all([
      api.get<Page<Backup>>(`${base}/backups?limit=100`, signal),
      api.get<Page<Activity>>(`${base}/activities?limit=100`, signal),
    ])
    return { backups: backups.items, activities: activities.items }
  }, base)
  if (data.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    )
  if (data.state === 'error')
    return (
      <p className="error" role="alert">
        {data.message}
      </p>
    )
  const oldestFirst = <T,>(xs: readonly T[]): T[] => [...xs].reverse()
  const sizes: Bar[] = oldestFirst(data.data.backups).map((b) => ({
    label: day(b.created_at),
    value: b.size,
    tone: b.automated ? 'alt' : 'ok',
  }))
  const durations = (type: string): Bar[] =>
    oldestFirst(data.data.activities)
      .filter((a) => a.type === type && a.started_at && a.completed_at)
      .map((a) => ({
        label: day(a.created_at),
        value: new Date(a.completed_at!).getTime() - new Date(a.started_at!).getTime(),
        tone: a.result === 'success' ? 'ok' : 'bad',
      }))
  const pauses: Bar[] = oldestFirst(data.data.backups)
    .filter((b) => b.pause_ms !== null && !b.live)
    .map((b) => ({ label: day(b.created_at), value: b.pause_ms! }))
  return (
    <div className="view">
      <div className="view-head">
        <h1>
          Charts <span className="sub">{environment.name}</span>
        </h1>
      </div>
      <div className="charts">
        <BarChart title="Snapshot sizes" bars={sizes} format={formatBytes} />
        <BarChart
          title="Backup durations"
          bars={durations('environment.backup')}
          format={formatDuration}
        />
        <BarChart
          title="Restore durations"
          bars={durations('environment.restore')}
          format={formatDuration}
        />
        <BarChart title="Pauses of consistent snapshots" bars={pauses} format={formatDuration} />
      </div>
    </div>
  )
}

import { useState } from 'react'
import { LogView } from './activity-progress.js'
import { p } from './api-client.js'
import type { Activity, Backup, Environment, LogLine, Page, Project } from './api-types.js'
import { activityKind, formatDuration, formatTime } from './format.js'
import { RunningActivity } from './running-activity.js'
import { useApi, useLoad } from './use-load.js'

function duration(a: Activity): number | undefined {
  if (!a.started_at || !a.completed_at) return undefined
  return new Date(a.completed_at).getTime() - new Date(a.started_at).getTime()
}

function resultWords(a: Activity): string {
  if (a.state === 'cancelled') return 'cancelled'
  return a.result === 'success' ? 'success' : 'failure'
}

/**
 * Activities of an environment: running ones with a live progress bar and log; finished ones
 * with their result, duration, pause and full log.
 */
export function ActivitiesView({
  project,
  environment,
  selected,
  onFinished,
}: {
  project: Project
  environment: Environment
  selected?: string
  onFinished: () => void
}) {
  const api = useApi()
  const base = p`/api/projects/${project.id}/environments/${environment.name}`
  const [data, reload] = useLoad(async (signal) => {
    const [activities, backups] = await Promise.all([
      api.get<Page<Activity>>(`${base}/activities?limit=50`, signal),
      api.get<Page<Backup>>(`${base}/backups?limit=100`, signal),
    ])
    const pauses = new Map(backups.items.map((b) => [b.id, b.pause_ms]))
    return { activities: activities.items, pauses }
  }, base)
  const [ended, setEnded] = useState<readonly string[]>([])
  if (data.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading the activities…
      </p>
    )
  if (data.state === 'error')
    return (
      <p className="error" role="alert">
        {data.message}
      </p>
    )
  const running = data.data.activities.filter(
    (a) => (a.state === 'pending' || a.state === 'in_progress') && !ended.includes(a.id),
  )
  const finished = data.data.activities.filter((a) => !running.includes(a))
  return (
    <div className="view">
      <div className="view-head">
        <h1>
          Activities <span className="sub">{environment.name}</span>
        </h1>
      </div>
      {running.map((a) => (
        <RunningActivity
          key={a.id}
          project={project.id}
          environment={environment.name}
          id={a.id}
          onEnd={() => {
            setEnded((e) => [...e, a.id])
            reload()
            onFinished()
          }}
        />
      ))}
      <section aria-labelledby="finished-title">
        <h2 id="finished-title">Finished</h2>
        {finished.length === 0 ? (
          <p className="empty">No finished activities yet.</p>
        ) : (
          <ul className="activity-list">
            {finished.map((a) => (
              <FinishedActivity
                key={a.id}
                activity={a}
                pause={a.snapshot ? (data.data.pauses.get(a.snapshot) ?? null) : null}
                open={a.id === selected}
              />
            ))}
          </ul>
        )}
      </section>
    </div>
  )
}

function FinishedActivity({
  activity: a,
  pause,
  open,
}: {
  activity: Activity
  pause: number | null
  open: boolean
}) {
  const [shown, setShown] = useState(open)
  const d = duration(a)
  const result = resultWords(a)
  return (
    <li className="activity" data-activity={a.id}>
      <details open={open} onToggle={(e) => setShown(e.currentTarget.open)}>
        <summary>
          <span className={`result ${result}`}>{result}</span>
          <span className="what">
            <strong>{activityKind(a.type)}</strong> — {a.description}
            {a.snapshot && (
              <>
                {' '}
                (<code>{a.snapshot}</code>)
              </>
            )}
          </span>
          <span className="when">
            {formatTime(a.created_at)}
            {d !== undefined && ` · ${formatDuration(d)}`}
            {pause !== null &&
              a.type === 'environment.backup' &&
              ` · pause ${formatDuration(pause)}`}
            {a.automated && ' · automatic'}
          </span>
        </summary>
        {a.error && (
          <p className="error" role="alert">
            {a.error.message}
          </p>
        )}
        {shown && <ActivityLog project={a.project} id={a.id} />}
      </details>
    </li>
  )
}

function ActivityLog({ project, id }: { project: string; id: string }) {
  const api = useApi()
  const [log] = useLoad(
    async (signal) =>
      (
        await api.get<Page<LogLine>>(
          p`/api/projects/${project}/activities/${id}/log` + '?limit=10000',
          signal,
        )
      ).items,
    `log:${id}`,
  )
  if (log.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading the log…
      </p>
    )
  if (log.state === 'error')
    return (
      <p className="error" role="alert">
        {log.message}
      </p>
    )
  return <LogView lines={log.data} label={`Log of activity ${id}`} />
}

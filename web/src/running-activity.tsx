import { LogView, ProgressBar } from './activity-progress.js'
import type { Activity } from './api-types.js'
import { href } from './route.js'
import { useActivityStream } from './use-activity-stream.js'

/** A running activity, followed live: its description, progress bar and log. */
export function RunningActivity({
  project,
  environment,
  id,
  onEnd,
}: {
  project: string
  environment: string
  id: string
  onEnd: (a: Activity | undefined) => void
}) {
  const feed = useActivityStream(project, id, onEnd)
  const a = feed.activity
  return (
    <section className="running card" aria-label="Running activity" aria-busy={!feed.ended}>
      <h2>
        {a?.description ?? 'Activity'}{' '}
        <a className="sub" href={href({ page: 'activities', project, environment, activity: id })}>
          {id}
        </a>
      </h2>
      <ProgressBar activity={a} />
      {a?.state === 'complete' && a.result === 'failure' && a.error && (
        <p className="error" role="alert">
          {a.error.message}
        </p>
      )}
      {feed.error && <p className="error">{feed.error}</p>}
      <LogView lines={feed.lines} label={`Log of activity ${id}`} />
    </section>
  )
}

import { useId, useState } from 'react'
import { errorMessage, p } from './api-client.js'
import type { Activity, Environment } from './api-types.js'
import { useApi } from './use-load.js'

/**
 * The Backup button with its "live" option. Where a manual snapshot is not allowed (Pro
 * staging/production, inactive, not an administrator, an activity running) it is shown
 * disabled, with the reason the API gives.
 */
export function BackupButton({
  environment,
  onStarted,
}: {
  environment: Environment
  onStarted: (a: Activity) => void
}) {
  const api = useApi()
  const [live, setLive] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const reasonId = useId()
  const liveId = useId()
  const { allowed, reason } = environment.can_create_snapshot

  const start = async (): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      const a = await api.post<Activity>(
        p`/api/projects/${environment.project}/environments/${environment.name}/backups`,
        { live },
      )
      onStarted(a)
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="backup-action">
      <div className="backup-controls">
        <button
          type="button"
          className="primary"
          disabled={!allowed || busy}
          aria-describedby={!allowed ? reasonId : liveId}
          onClick={() => void start()}
        >
          {busy ? 'Starting…' : 'Backup'}
        </button>
        <label className="inline">
          <input
            type="checkbox"
            checked={live}
            disabled={!allowed || busy}
            onChange={(e) => setLive(e.target.checked)}
          />
          Live
        </label>
      </div>
      {allowed ? (
        <p id={liveId} className="hint">
          {live
            ? 'Live: the site keeps running with no pause; files changed during the backup are listed in its log.'
            : 'Consistent: writes are held for about a second so the database and the files match.'}
        </p>
      ) : (
        <p id={reasonId} className="reason" role="note">
          {reason ?? 'You cannot take a snapshot of this environment.'}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}

import { useState } from 'react'
import { errorMessage, p } from './api-client.js'
import type { Activity, Backup, Environment, Page, Project } from './api-types.js'
import { BackupButton } from './backup-button.js'
import { Modal } from './modal.js'
import { RestoreDialog } from './restore-dialog.js'
import { RunningActivity } from './running-activity.js'
import { SnapshotList, type Filter } from './snapshot-list.js'
import { useApi, useLoad } from './use-load.js'

/** Why someone may not restore or delete on this environment, if so (the API decides too). */
function changeRefusal(env: Environment): string | undefined {
  return env.role === 'admin' ? undefined : 'You must be an administrator to restore a snapshot.'
}

/**
 * The Backups view of an environment: the Backup button, the running activity (live), the
 * Saved list with its More menus, and the Restore and Delete dialogs.
 */
export function BackupsView({
  project,
  environment,
  environments,
  onEnvironmentChange,
}: {
  project: Project
  environment: Environment
  environments: readonly Environment[]
  onEnvironmentChange: () => void
}) {
  const api = useApi()
  const [filter, setFilter] = useState<Filter>('all')
  const [restoring, setRestoring] = useState<Backup>()
  const [deleting, setDeleting] = useState<Backup>()
  const [started, setStarted] = useState<string>()
  const [finished, setFinished] = useState<Activity>()
  const base = p`/api/projects/${project.id}/environments/${environment.name}/backups`
  const query = filter === 'all' ? '' : `&automated=${filter === 'automatic'}`
  const [backups, reload] = useLoad(
    async (signal) => (await api.get<Page<Backup>>(`${base}?limit=100${query}`, signal)).items,
    `${base}:${filter}`,
  )
  // Activities already seen to end: the environment's record may lag behind the stream.
  const [ended, setEnded] = useState<readonly string[]>([])
  const candidate = started ?? environment.active_activity ?? undefined
  const running = candidate && !ended.includes(candidate) ? candidate : undefined

  const onStarted = (a: Activity): void => {
    setRestoring(undefined)
    setDeleting(undefined)
    setFinished(undefined)
    setStarted(a.id)
    onEnvironmentChange()
  }
  const onEnd = (a: Activity | undefined): void => {
    if (running) setEnded((e) => [...e, running])
    setStarted(undefined)
    if (a) setFinished(a)
    reload()
    onEnvironmentChange()
  }

  return (
    <div className="view">
      <div className="view-head">
        <h1>
          Backups <span className="sub">{environment.name}</span>
        </h1>
        <p className="lede">
          {environment.automatic_backups
            ? 'This environment is backed up automatically every hour; the backups are thinned as they age.'
            : 'Snapshots of this environment are taken by hand (or by a schedule you set). A manual snapshot can be restored for 7 days.'}
        </p>
      </div>
      <BackupButton environment={environment} onStarted={onStarted} />
      {running && (
        <RunningActivity
          key={running}
          project={project.id}
          environment={environment.name}
          id={running}
          onEnd={onEnd}
        />
      )}
      {!running && finished && (
        <p className={finished.result === 'success' ? 'notice ok' : 'notice bad'} role="status">
          {finished.result === 'success'
            ? finished.type === 'environment.backup' && finished.snapshot
              ? `Snapshot ${finished.snapshot} created.`
              : `${finished.description}: done.`
            : `${finished.description}: ${finished.error?.message ?? 'failed.'}`}
        </p>
      )}
      <SnapshotList
        backups={backups}
        filter={filter}
        onFilter={setFilter}
        onRestore={setRestoring}
        onDelete={setDeleting}
        canChange={changeRefusal(environment)}
      />
      {restoring && (
        <RestoreDialog
          backup={restoring}
          environments={environments}
          onClose={() => setRestoring(undefined)}
          onStarted={onStarted}
        />
      )}
      {deleting && (
        <DeleteDialog
          backup={deleting}
          url={`${base}/${encodeURIComponent(deleting.id)}`}
          onClose={() => setDeleting(undefined)}
          onStarted={onStarted}
        />
      )}
    </div>
  )
}

function DeleteDialog({
  backup,
  url,
  onClose,
  onStarted,
}: {
  backup: Backup
  url: string
  onClose: () => void
  onStarted: (a: Activity) => void
}) {
  const api = useApi()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  return (
    <Modal title={`Delete snapshot ${backup.id}?`} onClose={onClose}>
      <p>
        Its data is removed from the repository once no other snapshot needs it. This cannot be
        undone.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-buttons">
        <button type="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          className="primary danger"
          disabled={busy}
          onClick={() => {
            setBusy(true)
            api.request<Activity>('DELETE', url).then(onStarted, (e: unknown) => {
              setError(errorMessage(e))
              setBusy(false)
            })
          }}
        >
          Yes, delete
        </button>
      </div>
    </Modal>
  )
}

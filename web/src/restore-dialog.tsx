import { useId, useState } from 'react'
import { errorMessage, p } from './api-client.js'
import type { Activity, Backup, Environment, RestorePart, RestorePreview } from './api-types.js'
import { formatAge, formatBytes, formatDuration, formatTime, shortCommit } from './format.js'
import { Modal } from './modal.js'
import { useApi, useLoad, type Loaded } from './use-load.js'

export const SCOPES = ['everything', 'services', 'mounts'] as const
export type Scope = (typeof SCOPES)[number]

const SCOPE_WORDS: Record<Scope, string> = {
  everything: 'Databases and mounts',
  services: 'Only the databases',
  mounts: 'Only the mounts',
}

function onlyFor(scope: Scope): RestorePart[] | undefined {
  switch (scope) {
    case 'everything':
      return undefined
    case 'services':
      return [{ kind: 'services' }]
    case 'mounts':
      return [{ kind: 'mounts' }]
    default:
      return scope satisfies never
  }
}

/**
 * More → Restore: the options (target environment, databases and/or mounts), the preview the
 * API computes for them — what will be restored, its age, sizes, what will change, how long
 * it should take — and the confirmation "Yes, restore".
 */
export function RestoreDialog({
  backup,
  environments,
  onClose,
  onStarted,
}: {
  backup: Backup
  environments: readonly Environment[]
  onClose: () => void
  onStarted: (a: Activity) => void
}) {
  const api = useApi()
  const [target, setTarget] = useState(backup.environment)
  const [scope, setScope] = useState<Scope>('everything')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const targetId = useId()
  const only = onlyFor(scope)
  const body = { ...(target !== backup.environment ? { target } : {}), ...(only ? { only } : {}) }
  const base = p`/api/projects/${backup.project}/environments/${backup.environment}/backups/${backup.id}`
  const [preview] = useLoad(
    () => api.post<RestorePreview>(`${base}/restore-preview`, body),
    `${backup.id}:${target}:${scope}`,
  )

  const confirm = async (): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      onStarted(await api.post<Activity>(`${base}/restore`, body))
    } catch (e) {
      setError(errorMessage(e))
      setBusy(false)
    }
  }

  return (
    <Modal title={`Restore snapshot ${backup.id}`} onClose={onClose} className="restore-dialog">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault()
          void confirm()
        }}
      >
        <div className="options">
          <div className="field">
            <label htmlFor={targetId}>Restore into</label>
            <select
              id={targetId}
              value={target}
              onChange={(e) => setTarget(e.target.value)}
              disabled={busy}
            >
              {environments.map((env) => (
                <option key={env.name} value={env.name}>
                  {env.name} ({env.type})
                  {env.name === backup.environment ? ' — where it was taken' : ''}
                </option>
              ))}
            </select>
          </div>
          <fieldset disabled={busy}>
            <legend>What to restore</legend>
            {SCOPES.map((s) => (
              <label key={s} className="inline">
                <input
                  type="radio"
                  name="scope"
                  value={s}
                  checked={scope === s}
                  onChange={() => setScope(s)}
                />
                {SCOPE_WORDS[s]}
              </label>
            ))}
          </fieldset>
        </div>
        <PreviewPanel preview={preview} />
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
            type="submit"
            className="primary danger"
            disabled={busy || preview.state !== 'ready'}
          >
            {busy ? 'Starting the restore…' : 'Yes, restore'}
          </button>
        </div>
      </form>
    </Modal>
  )
}

/** The preview of a restore, or why there is none. */
export function PreviewPanel({ preview }: { preview: Loaded<RestorePreview> }) {
  if (preview.state === 'loading')
    return (
      <p className="loading" role="status">
        Comparing the snapshot with the environment…
      </p>
    )
  if (preview.state === 'error')
    return (
      <p className="error" role="alert">
        {preview.message}
      </p>
    )
  const v = preview.data
  const b = v.backup
  const changedFiles = v.mounts.reduce((n, m) => n + m.changed_files, 0)
  const changedTables = v.databases.reduce((n, d) => n + d.changed_tables, 0)
  return (
    <section className="preview" aria-label="What will be restored">
      <dl className="facts">
        <dt>Snapshot</dt>
        <dd>
          <code>{b.id}</code>, {b.automated ? 'automatic' : 'manual'},{' '}
          {b.live ? 'live' : 'consistent'}
        </dd>
        <dt>Taken</dt>
        <dd>
          {formatTime(b.created_at)} ({formatAge(v.age_ms)} ago)
        </dd>
        <dt>Commit then</dt>
        <dd>
          <code>{shortCommit(b.commit)}</code>
        </dd>
        <dt>Size</dt>
        <dd>{formatBytes(b.size)}</dd>
        <dt>To restore</dt>
        <dd>{formatBytes(v.bytes_to_restore)}</dd>
        <dt>Estimated duration</dt>
        <dd>
          {v.estimated_ms < 1000 ? 'less than a second' : `about ${formatDuration(v.estimated_ms)}`}
        </dd>
      </dl>
      {v.databases.length > 0 && (
        <table className="compact">
          <caption>Databases</caption>
          <thead>
            <tr>
              <th scope="col">Database</th>
              <th scope="col">Tables</th>
              <th scope="col">Size</th>
              <th scope="col">Tables that change</th>
            </tr>
          </thead>
          <tbody>
            {v.databases.map((d) => (
              <tr key={`${d.service}/${d.database}`}>
                <td>
                  {d.service}/{d.database}
                </td>
                <td>{d.tables}</td>
                <td>{formatBytes(d.bytes)}</td>
                <td>{d.changed_tables}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {v.mounts.length > 0 && (
        <table className="compact">
          <caption>Mounts</caption>
          <thead>
            <tr>
              <th scope="col">Mount</th>
              <th scope="col">Files</th>
              <th scope="col">Size</th>
              <th scope="col">Files that change</th>
            </tr>
          </thead>
          <tbody>
            {v.mounts.map((m) => (
              <tr key={m.mount}>
                <td>{m.mount}</td>
                <td>{m.files}</td>
                <td>{formatBytes(m.bytes)}</td>
                <td>
                  {m.changed_files} ({formatBytes(m.changed_bytes)})
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="warning">
        {changedTables + changedFiles === 0
          ? `${v.target} already matches the snapshot: nothing will change.`
          : `The data of ${v.target} will be replaced: ${changedTables} table(s) and ${changedFiles} file(s) change. Its code (the git branch) is not changed.`}
      </p>
    </section>
  )
}

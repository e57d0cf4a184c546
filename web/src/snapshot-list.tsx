import type { Backup } from './api-types.js'
import { formatBytes, formatDuration, formatTime, shortCommit } from './format.js'
import { MoreMenu } from './more-menu.js'
import type { Loaded } from './use-load.js'

export const FILTERS = ['all', 'manual', 'automatic'] as const
export type Filter = (typeof FILTERS)[number]

const FILTER_WORDS: Record<Filter, string> = {
  all: 'All',
  manual: 'Manual',
  automatic: 'Automatic',
}

/** The snapshot's restore window, as the list says it. */
export function expiredReason(b: Backup): string {
  return `The snapshot ${b.id} cannot be restored: it is older than 7 days.`
}

/**
 * The Saved list: the environment's snapshots, newest first, with a filter for manual and
 * automatic ones, and for each a More menu (Restore, Delete).
 */
export function SnapshotList({
  backups,
  filter,
  onFilter,
  onRestore,
  onDelete,
  canChange,
}: {
  backups: Loaded<readonly Backup[]>
  filter: Filter
  onFilter: (f: Filter) => void
  onRestore: (b: Backup) => void
  onDelete: (b: Backup) => void
  /** Why the user may not restore or delete here (not an administrator), if so. */
  canChange: string | undefined
}) {
  return (
    <section aria-labelledby="saved-title" className="saved">
      <div className="section-head">
        <h2 id="saved-title">Saved</h2>
        <div role="group" aria-label="Show" className="segmented">
          {FILTERS.map((f) => (
            <button key={f} type="button" aria-pressed={filter === f} onClick={() => onFilter(f)}>
              {FILTER_WORDS[f]}
            </button>
          ))}
        </div>
      </div>
      <SnapshotTable
        backups={backups}
        filter={filter}
        onRestore={onRestore}
        onDelete={onDelete}
        canChange={canChange}
      />
    </section>
  )
}

function SnapshotTable({
  backups,
  filter,
  onRestore,
  onDelete,
  canChange,
}: {
  backups: Loaded<readonly Backup[]>
  filter: Filter
  onRestore: (b: Backup) => void
  onDelete: (b: Backup) => void
  canChange: string | undefined
}) {
  if (backups.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading the snapshots…
      </p>
    )
  if (backups.state === 'error')
    return (
      <p className="error" role="alert">
        {backups.message}
      </p>
    )
  if (backups.data.length === 0)
    return (
      <p className="empty">
        {filter === 'automatic'
          ? 'No automatic backups.'
          : filter === 'manual'
            ? 'No manual snapshots yet.'
            : 'No snapshots yet.'}
      </p>
    )
  return (
    <div className="snapshots-wrap">
      <table className="snapshots">
        <caption className="visually-hidden">Snapshots, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Snapshot ID</th>
            <th scope="col">Size</th>
            <th scope="col">Mode</th>
            <th scope="col">Kind</th>
            <th scope="col">Restorable</th>
            <th scope="col">Created by</th>
            <th scope="col">Commit</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {backups.data.map((b) => (
            <tr key={b.id} data-snapshot={b.id}>
              <td data-label="Created">{formatTime(b.created_at)}</td>
              <td data-label="Snapshot ID">
                <code>{b.id}</code>
              </td>
              <td data-label="Size">{formatBytes(b.size)}</td>
              <td data-label="Mode">
                {b.live ? 'live' : 'consistent'}
                {b.pause_ms !== null && !b.live && (
                  <span className="sub"> (pause {formatDuration(b.pause_ms)})</span>
                )}
              </td>
              <td data-label="Kind">{b.automated ? 'automatic' : 'manual'}</td>
              <td data-label="Restorable">
                {b.restorable ? (
                  <span className="ok-text">
                    Restorable
                    {b.expires_at && <span className="sub"> until {formatTime(b.expires_at)}</span>}
                  </span>
                ) : (
                  <span className="bad-text">Expired — not restorable</span>
                )}
              </td>
              <td data-label="Created by">{b.created_by ?? (b.automated ? 'schedule' : '—')}</td>
              <td data-label="Commit">
                <code>{shortCommit(b.commit)}</code>
              </td>
              <td>
                <MoreMenu
                  label={`More actions for snapshot ${b.id}`}
                  items={[
                    {
                      label: 'Restore',
                      onSelect: () => onRestore(b),
                      ...(!b.restorable
                        ? { disabledReason: expiredReason(b) }
                        : canChange
                          ? { disabledReason: canChange }
                          : {}),
                    },
                    {
                      label: 'Delete',
                      danger: true,
                      onSelect: () => onDelete(b),
                      ...(canChange ? { disabledReason: canChange } : {}),
                    },
                  ]}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

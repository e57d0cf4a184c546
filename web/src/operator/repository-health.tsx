import { useState } from 'react'
import { p } from '../api-client.js'
import type { RepositoryCheck, RepositoryHealth } from '../api-types.js'
import { formatBytes, formatDuration, formatTime } from '../format.js'
import { useApi, useLoad } from '../use-load.js'
import { RepositorySizeChart } from './repository-size-chart.js'

function checkText(c: RepositoryCheck): string {
  const what = c.read_data ? 'structure and data' : 'structure'
  const result = c.errors === 0 ? 'no errors' : `${c.errors} error${c.errors === 1 ? '' : 's'}`
  return `${formatTime(c.checked_at)}: ${what}, ${result} (${formatDuration(c.duration_ms)}, by ${c.checked_by})`
}

/**
 * A project's repository health: what the storage holds, the deduplication ratio, and the
 * last check, with buttons to check the structure or every byte now; then its size over time.
 */
export function RepositoryHealthFacts({ project }: { project: string }) {
  const api = useApi()
  const path = p`/api/projects/${project}/repository`
  const [health, reload] = useLoad((signal) => api.get<RepositoryHealth>(path, signal), path)
  const [checking, setChecking] = useState<'structure' | 'data' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const check = async (readData: boolean): Promise<void> => {
    setChecking(readData ? 'data' : 'structure')
    setError(null)
    try {
      await api.post<RepositoryCheck>(`${path}/check`, { read_data: readData })
      reload()
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    } finally {
      setChecking(null)
    }
  }
  if (health.state === 'loading')
    return (
      <p className="loading" role="status">
        Reading the repository…
      </p>
    )
  if (health.state === 'error')
    return (
      <p className="error" role="alert">
        {health.message}
      </p>
    )
  const h = health.data
  const last = h.last_check
  return (
    <>
      <dl className="facts">
        <dt>Stored</dt>
        <dd>
          {formatBytes(h.stored_bytes)} in {h.packs} pack{h.packs === 1 ? '' : 's'}
        </dd>
        <dt>Deduplication</dt>
        <dd>{h.deduplication_ratio === null ? '—' : `${h.deduplication_ratio.toFixed(2)} ×`}</dd>
        <dt>Last check</dt>
        <dd className={last && last.errors > 0 ? 'bad-text' : undefined}>
          {last ? checkText(last) : 'never checked'}
        </dd>
      </dl>
      {last && last.findings.length > 0 && (
        <ul className="plain bad-text" aria-label="Check errors">
          {last.findings.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
      <div className="action-form">
        <button
          type="button"
          className="action-button"
          disabled={checking !== null}
          onClick={() => void check(false)}
        >
          {checking === 'structure' ? 'Checking…' : 'Check now'}
        </button>
        <button
          type="button"
          className="action-button"
          disabled={checking !== null}
          onClick={() => void check(true)}
        >
          {checking === 'data' ? 'Reading every pack…' : 'Check every byte'}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {/* Loaded once the health is: the history then holds the sample its figures made. */}
      <RepositorySizeChart project={project} />
    </>
  )
}

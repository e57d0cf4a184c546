import { useEffect, useRef } from 'react'
import type { Activity, LogLine } from './api-types.js'
import { formatBytes } from './format.js'

/** A progress bar with the phase and the figures, for a running activity. */
export function ProgressBar({ activity }: { activity: Activity | undefined }) {
  const pr = activity?.progress
  const percent = pr?.percent ?? null
  const figures = pr
    ? [
        pr.phase,
        pr.bytes_total
          ? `${formatBytes(pr.bytes_done)} of ${formatBytes(pr.bytes_total)}`
          : pr.bytes_done > 0
            ? formatBytes(pr.bytes_done)
            : null,
        pr.items_total ? `${pr.items_done} of ${pr.items_total} items` : null,
      ].filter(Boolean)
    : []
  const state = activity?.state ?? 'pending'
  const label =
    state === 'pending'
      ? 'Waiting to start'
      : state === 'in_progress'
        ? percent !== null
          ? `${Math.round(percent)}%`
          : 'Running'
        : state === 'cancelled'
          ? 'Cancelled'
          : activity?.result === 'success'
            ? 'Complete'
            : 'Failed'
  const done = state === 'complete' || state === 'cancelled'
  return (
    <div className="progress-block">
      <div
        className={`progress ${done ? (activity?.result === 'success' ? 'ok' : 'bad') : ''}`}
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={done ? 100 : (percent ?? undefined)}
        aria-valuetext={label}
      >
        <div
          className={percent === null && !done ? 'bar indeterminate' : 'bar'}
          style={{ width: `${done ? 100 : (percent ?? 30)}%` }}
        />
      </div>
      <p className="progress-text">
        <strong>{label}</strong>
        {figures.length > 0 && ` — ${figures.join(', ')}`}
      </p>
    </div>
  )
}

/** The log of an activity; follows new lines while the reader is at the bottom. */
export function LogView({ lines, label }: { lines: readonly LogLine[]; label: string }) {
  const ref = useRef<HTMLPreElement>(null)
  useEffect(() => {
    const el = ref.current
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight
  }, [lines])
  return (
    <pre className="log" ref={ref} tabIndex={0} aria-label={label} role="log">
      {lines.length === 0 ? 'No log lines yet.' : lines.map((l) => l.line).join('\n')}
    </pre>
  )
}

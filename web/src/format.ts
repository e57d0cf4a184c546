/** How the console writes sizes, times and durations (English, UTC like the CLI). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const

export function formatBytes(n: number): string {
  let v = n
  let i = 0
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`
}

/** `2026-03-08 17:07:01 UTC`: the moment, unambiguous for a team across time zones. */
export function formatTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  const h = Math.floor(m / 60)
  return `${h} h ${m % 60} min`
}

/** `3 hours ago`, `2 days ago`: the age of a snapshot. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return s === 1 ? '1 second' : `${s} seconds`
  const m = Math.round(s / 60)
  if (m < 60) return m === 1 ? '1 minute' : `${m} minutes`
  const h = Math.round(m / 60)
  if (h < 48) return h === 1 ? '1 hour' : `${h} hours`
  const d = Math.round(h / 24)
  return `${d} days`
}

export function since(iso: string, now = Date.now()): number {
  return now - new Date(iso).getTime()
}

/** The activity types in words. */
export function activityKind(type: string): string {
  switch (type) {
    case 'environment.backup':
      return 'Backup'
    case 'environment.restore':
      return 'Restore'
    case 'environment.backup.delete':
      return 'Delete'
    default:
      return type
  }
}

export function shortCommit(sha: string | null): string {
  return sha ? sha.slice(0, 7) : '—'
}

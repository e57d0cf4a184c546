/**
 * Thinning of automatic backups (PRODUCT.md, "Automatic backups"): hourly for the last 3 days,
 * daily up to 7 days, weekly up to 6 weeks, every two weeks up to 12 weeks, monthly up to 5
 * months, nothing older. Each tier keeps, per calendar bucket (UTC hour, day, ISO week, pair
 * of weeks, month), the oldest snapshot that still exists: the oldest, so that a snapshot
 * kept once is not replaced by newer ones as they age into the tier (no churn). The newest
 * snapshot is always kept.
 */
export interface ThinningTier {
  /** Snapshots younger than this (ms) fall in the tier (tiers are checked youngest first). */
  readonly maxAgeMs: number
  readonly bucket: 'hour' | 'day' | 'week' | 'two-weeks' | 'month'
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const WEEK = 7 * DAY

export const DEFAULT_THINNING: readonly ThinningTier[] = [
  { maxAgeMs: 3 * DAY, bucket: 'hour' },
  { maxAgeMs: 7 * DAY, bucket: 'day' },
  { maxAgeMs: 6 * WEEK, bucket: 'week' },
  { maxAgeMs: 12 * WEEK, bucket: 'two-weeks' },
  { maxAgeMs: 153 * DAY, bucket: 'month' }, // five months of about 30.6 days
]

/** Monday 1970-01-05 00:00 UTC: ISO weeks start on Mondays. */
const FIRST_MONDAY = 4 * DAY

function bucketOf(t: number, bucket: ThinningTier['bucket']): number {
  switch (bucket) {
    case 'hour':
      return Math.floor(t / HOUR)
    case 'day':
      return Math.floor(t / DAY)
    case 'week':
      return Math.floor((t - FIRST_MONDAY) / WEEK)
    case 'two-weeks':
      return Math.floor((t - FIRST_MONDAY) / (2 * WEEK))
    case 'month': {
      const d = new Date(t)
      return d.getUTCFullYear() * 12 + d.getUTCMonth()
    }
    default:
      return bucket satisfies never
  }
}

export interface ThinningDecision<T> {
  readonly keep: readonly T[]
  readonly remove: readonly T[]
}

/** Decides which automatic snapshots to keep; pure, so tests compare plans as data. */
export function planThinning<T extends { readonly time: Date }>(
  snapshots: readonly T[],
  now: Date,
  tiers: readonly ThinningTier[] = DEFAULT_THINNING,
): ThinningDecision<T> {
  const sorted = [...snapshots].sort((a, b) => a.time.getTime() - b.time.getTime())
  const kept = new Set<T>()
  const seen = new Map<string, T>()
  for (const s of sorted) {
    const age = now.getTime() - s.time.getTime()
    const tierIndex = tiers.findIndex((t) => age < t.maxAgeMs)
    if (tierIndex < 0) continue
    const tier = tiers[tierIndex]!
    const key = `${tierIndex}:${bucketOf(s.time.getTime(), tier.bucket)}`
    if (!seen.has(key)) {
      seen.set(key, s)
      kept.add(s)
    }
  }
  const newest = sorted.at(-1)
  if (newest) kept.add(newest)
  return { keep: sorted.filter((s) => kept.has(s)), remove: sorted.filter((s) => !kept.has(s)) }
}

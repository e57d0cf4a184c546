import { InvalidInputError } from '../errors.js'
import type { GoTime } from './go/index.js'
import type { StoredSnapshot } from './snapshot.js'

/** restic's `--keep-within` durations: years, months, days, hours (`1y6m`, `7d`, `36h`). */
export interface PolicyDuration {
  readonly years: number
  readonly months: number
  readonly days: number
  readonly hours: number
}

/**
 * Which snapshots to keep (restic's ExpirePolicy, internal/data/snapshot_policy.go). A count
 * of -1 means "all" (restic's `unlimited`). Everything not kept by some rule is removed.
 */
export interface ForgetPolicy {
  readonly last?: number
  readonly hourly?: number
  readonly daily?: number
  readonly weekly?: number
  readonly monthly?: number
  readonly yearly?: number
  readonly within?: PolicyDuration
  readonly withinHourly?: PolicyDuration
  readonly withinDaily?: PolicyDuration
  readonly withinWeekly?: PolicyDuration
  readonly withinMonthly?: PolicyDuration
  readonly withinYearly?: PolicyDuration
  /** Keep snapshots that carry all tags of at least one of these lists. */
  readonly tags?: readonly (readonly string[])[]
}

export interface KeepDecision {
  readonly snapshot: StoredSnapshot
  readonly keep: boolean
  readonly reasons: readonly string[]
}

/** Parses `1y5m7d2h`-style durations exactly as restic's ParseDuration does. */
export function parsePolicyDuration(s: string): PolicyDuration {
  const d = { years: 0, months: 0, days: 0, hours: 0 }
  const re = /^(-?\d+)([ymdh])/
  let rest = s.trim()
  if (rest === '') throw new InvalidInputError('duration', 'Empty duration.')
  while (rest !== '') {
    const m = re.exec(rest)
    if (!m)
      throw new InvalidInputError(
        'duration',
        `Invalid duration "${s}": use numbers with y, m, d or h (e.g. 1y6m, 7d, 36h).`,
      )
    const n = Number(m[1])
    if (m[2] === 'y') d.years = n
    else if (m[2] === 'm') d.months = n
    else if (m[2] === 'd') d.days = n
    else d.hours = n
    rest = rest.slice(m[0].length)
  }
  return d
}

export function isEmptyPolicy(p: ForgetPolicy): boolean {
  return (
    !p.last &&
    !p.hourly &&
    !p.daily &&
    !p.weekly &&
    !p.monthly &&
    !p.yearly &&
    !p.within &&
    !p.withinHourly &&
    !p.withinDaily &&
    !p.withinWeekly &&
    !p.withinMonthly &&
    !p.withinYearly &&
    !(p.tags && p.tags.length > 0)
  )
}

/** Calendar fields of a snapshot time in the time zone it was written with (as Go does). */
function fields(t: GoTime): {
  y: number
  mo: number
  d: number
  h: number
  week: [number, number]
} {
  const ms = Number(t.unixNs / 1_000_000n) + t.offsetSeconds * 1000
  const date = new Date(ms)
  return {
    y: date.getUTCFullYear(),
    mo: date.getUTCMonth() + 1,
    d: date.getUTCDate(),
    h: date.getUTCHours(),
    week: isoWeek(date),
  }
}

/** ISO 8601 year and week of a UTC-shifted date (Go's time.ISOWeek). */
function isoWeek(date: Date): [number, number] {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
  const dayNum = d.getUTCDay() || 7 // Monday 1 … Sunday 7
  d.setUTCDate(d.getUTCDate() + 4 - dayNum) // the Thursday of this week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1)
  return [d.getUTCFullYear(), Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7)]
}

type Bucker = (t: GoTime, nr: number) => number
const ymdh: Bucker = (t) => {
  const f = fields(t)
  return f.y * 1_000_000 + f.mo * 10_000 + f.d * 100 + f.h
}
const ymd: Bucker = (t) => {
  const f = fields(t)
  return f.y * 10_000 + f.mo * 100 + f.d
}
const yw: Bucker = (t) => {
  const [y, w] = fields(t).week
  return y * 100 + w
}
const ym: Bucker = (t) => {
  const f = fields(t)
  return f.y * 100 + f.mo
}
const yOnly: Bucker = (t) => fields(t).y
const always: Bucker = (_t, nr) => nr

/** `latest` minus a duration, with Go's AddDate normalisation (month overflow rolls over). */
function minus(latestMs: number, d: PolicyDuration): number {
  const t = new Date(latestMs)
  const shifted = Date.UTC(
    t.getUTCFullYear() - d.years,
    t.getUTCMonth() - d.months,
    t.getUTCDate() - d.days,
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
    t.getUTCMilliseconds(),
  )
  return shifted - d.hours * 3_600_000
}

const timeMs = (s: StoredSnapshot): number => Number(s.time.unixNs / 1_000_000n)

/**
 * Decides, for one group of snapshots, which to keep and why: restic's ApplyPolicy, rule
 * for rule. Pure: `now` only bounds which snapshot counts as the latest (restic ignores
 * snapshots dated in the future for that).
 */
export function applyPolicy(
  list: readonly StoredSnapshot[],
  p: ForgetPolicy,
  now: Date,
): KeepDecision[] {
  const sorted = [...list].sort((a, b) =>
    a.time.unixNs > b.time.unixNs ? -1 : a.time.unixNs < b.time.unixNs ? 1 : 0,
  )
  if (sorted.length === 0) return []
  const buckets = [
    { count: p.last ?? 0, bucker: always, last: -1, reason: 'last snapshot' },
    { count: p.hourly ?? 0, bucker: ymdh, last: -1, reason: 'hourly snapshot' },
    { count: p.daily ?? 0, bucker: ymd, last: -1, reason: 'daily snapshot' },
    { count: p.weekly ?? 0, bucker: yw, last: -1, reason: 'weekly snapshot' },
    { count: p.monthly ?? 0, bucker: ym, last: -1, reason: 'monthly snapshot' },
    { count: p.yearly ?? 0, bucker: yOnly, last: -1, reason: 'yearly snapshot' },
  ]
  const within = [
    { within: p.withinHourly, bucker: ymdh, last: -1, reason: 'hourly within' },
    { within: p.withinDaily, bucker: ymd, last: -1, reason: 'daily within' },
    { within: p.withinWeekly, bucker: yw, last: -1, reason: 'weekly within' },
    { within: p.withinMonthly, bucker: ym, last: -1, reason: 'monthly within' },
    { within: p.withinYearly, bucker: yOnly, last: -1, reason: 'yearly within' },
  ]
  let latest = 0
  for (const s of sorted) if (timeMs(s) > latest && timeMs(s) < now.getTime()) latest = timeMs(s)

  return sorted.map((cur, nr) => {
    const reasons: string[] = []
    let keep = false
    for (const tagList of p.tags ?? []) {
      const have = new Set(cur.tags ?? [])
      if (tagList.every((t) => have.has(t))) {
        keep = true
        reasons.push(`has tags [${tagList.join(' ')}]`)
      }
    }
    if (p.within && timeMs(cur) > minus(latest, p.within)) {
      keep = true
      reasons.push(`within ${formatDuration(p.within)}`)
    }
    const isLast = nr === sorted.length - 1
    for (const b of buckets) {
      if (b.count > 0 || b.count === -1) {
        const val = b.bucker(cur.time, nr)
        if (val !== b.last || isLast) {
          keep = true
          reasons.push(val === b.last && isLast ? `oldest ${b.reason}` : b.reason)
          b.last = val
          if (b.count > 0) b.count--
        }
      }
    }
    for (const b of within) {
      if (!b.within) continue
      if (timeMs(cur) > minus(latest, b.within)) {
        const val = b.bucker(cur.time, nr)
        if (val !== b.last || isLast) {
          keep = true
          reasons.push(
            `${val === b.last && isLast ? 'oldest ' : ''}${b.reason} ${formatDuration(b.within)}`,
          )
          b.last = val
        }
      }
    }
    return { snapshot: cur, keep, reasons }
  })
}

export function formatDuration(d: PolicyDuration): string {
  return `${d.years ? `${d.years}y` : ''}${d.months ? `${d.months}m` : ''}${d.days ? `${d.days}d` : ''}${d.hours ? `${d.hours}h` : ''}`
}

export interface GroupBy {
  readonly host: boolean
  readonly paths: boolean
  readonly tags: boolean
}

/** Groups snapshots as restic's `--group-by` does (default host,paths). */
export function groupSnapshots(
  list: readonly StoredSnapshot[],
  by: GroupBy,
): Map<string, StoredSnapshot[]> {
  const groups = new Map<string, StoredSnapshot[]>()
  for (const s of list) {
    const key = JSON.stringify({
      hostname: by.host ? (s.hostname ?? '') : '',
      paths: by.paths ? [...s.paths].sort() : null,
      tags: by.tags ? [...(s.tags ?? [])].sort() : null,
    })
    const g = groups.get(key)
    if (g) g.push(s)
    else groups.set(key, [s])
  }
  return groups
}

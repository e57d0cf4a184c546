import { InvalidInputError } from '../errors.js'

/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in
 * UTC: numbers, `*`, ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b`. As in Vixie
 * cron, when both day fields are restricted a day matches if either does; day-of-week 7 is
 * Sunday like 0. Pure: `nextRun` is what the scheduler and its tests compare as data.
 */
export interface Cron {
  readonly source: string
  readonly minutes: ReadonlySet<number>
  readonly hours: ReadonlySet<number>
  readonly days: ReadonlySet<number>
  readonly months: ReadonlySet<number>
  readonly weekdays: ReadonlySet<number>
  readonly dayRestricted: boolean
  readonly weekdayRestricted: boolean
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const

function parseField(text: string, f: (typeof FIELDS)[number]): Set<number> {
  const out = new Set<number>()
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part)
    if (!m) throw new InvalidInputError('cron', `The ${f.name} field "${text}" does not parse.`)
    const step = m[4] ? Number(m[4]) : 1
    let lo: number = f.min
    let hi: number = f.max
    if (m[1] !== '*') {
      lo = Number(m[2])
      hi = m[3] !== undefined ? Number(m[3]) : m[4] ? f.max : lo
    }
    if (lo < f.min || hi > f.max || lo > hi || step < 1)
      throw new InvalidInputError('cron', `The ${f.name} field "${text}" is out of range.`)
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' && v === 7 ? 0 : v)
  }
  return out
}

export function parseCron(source: string): Cron {
  const parts = source.trim().split(/\s+/)
  if (parts.length !== 5)
    throw new InvalidInputError(
      'cron',
      'A cron expression has five fields: minute hour day month weekday.',
    )
  const [mi, h, d, mo, w] = parts as [string, string, string, string, string]
  return {
    source: parts.join(' '),
    minutes: parseField(mi, FIELDS[0]),
    hours: parseField(h, FIELDS[1]),
    days: parseField(d, FIELDS[2]),
    months: parseField(mo, FIELDS[3]),
    weekdays: parseField(w, FIELDS[4]),
    dayRestricted: d !== '*',
    weekdayRestricted: w !== '*',
  }
}

function dayMatches(c: Cron, t: Date): boolean {
  const dom = c.days.has(t.getUTCDate())
  const dow = c.weekdays.has(t.getUTCDay())
  if (c.dayRestricted && c.weekdayRestricted) return dom || dow
  return dom && dow
}

const MINUTE = 60_000

/** The first time strictly after `after` that the expression names (whole minutes, UTC). */
export function nextRun(c: Cron, after: Date): Date {
  const t = new Date(Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE)
  // Four years cover every combination (29 February); past that the expression never fires.
  const limit = after.getTime() + 4 * 366 * 86_400_000
  while (t.getTime() <= limit) {
    if (!c.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1)
      t.setUTCHours(0, 0, 0, 0)
      continue
    }
    if (!dayMatches(c, t)) {
      t.setUTCDate(t.getUTCDate() + 1)
      t.setUTCHours(0, 0, 0, 0)
      continue
    }
    if (!c.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0)
      continue
    }
    if (!c.minutes.has(t.getUTCMinutes())) {
      t.setTime(t.getTime() + MINUTE)
      continue
    }
    return t
  }
  throw new InvalidInputError('cron', `The cron expression "${c.source}" never fires.`)
}

/** The usual gap between two runs, from the run after `from` (for the dead man's switch). */
export function interval(c: Cron, from: Date): number {
  const a = nextRun(c, from)
  return nextRun(c, a).getTime() - a.getTime()
}

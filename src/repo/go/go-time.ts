/**
 * Go's `time.Time` as restic stores it in JSON: RFC 3339 with nanoseconds
 * (`2006-01-02T15:04:05.999999999Z07:00`: the fraction trimmed of trailing zeros and left
 * out when zero, `Z` for UTC, else `+hh:mm`). A GoTime keeps the instant in nanoseconds
 * and the UTC offset it is shown with, so a time read from restic is written back the same.
 */
export interface GoTime {
  readonly unixNs: bigint
  readonly offsetSeconds: number
}

const NS_PER_S = 1_000_000_000n
const pad = (n: number, w: number): string => String(n).padStart(w, '0')

const SECONDS_PER_DAY = 86_400

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
 * integer arithmetic, where a Date object per call cost a walk of 15,000 files a fifth of a
 * second (three times per file, parsed and formatted).
 */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

/** Calendar fields of a count of seconds since the epoch (civil_from_days, any year). */
function civil(seconds: number): {
  y: number
  mo: number
  d: number
  h: number
  mi: number
  s: number
} {
  const days = Math.floor(seconds / SECONDS_PER_DAY)
  const rem = seconds - days * SECONDS_PER_DAY
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const mo = mp < 10 ? mp + 3 : mp - 9
  const y = yoe + era * 400 + (mo <= 2 ? 1 : 0)
  return {
    y,
    mo,
    d,
    h: Math.floor(rem / 3600),
    mi: Math.floor((rem % 3600) / 60),
    s: rem % 60,
  }
}

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
/** Years 0–9999 (what JSON can hold) lie between these, in seconds since the epoch. */
const YEAR_0 = daysFromCivil(0, 1, 1) * SECONDS_PER_DAY
const YEAR_10000 = daysFromCivil(10_000, 1, 1) * SECONDS_PER_DAY

/** Floor division for bigint (BigInt division truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

/** Whole seconds (floored) and nanoseconds past them of an instant shifted by an offset. */
function splitLocal(t: GoTime): { readonly sec: number; readonly frac: number } {
  const q = t.unixNs / NS_PER_S
  let sec = Number(q)
  let frac = Number(t.unixNs - q * NS_PER_S)
  if (frac < 0) {
    sec -= 1
    frac += 1_000_000_000
  }
  return { sec: sec + t.offsetSeconds, frac }
}

export function formatGoTime(t: GoTime): string {
  const { sec, frac } = splitLocal(t)
  const c = civil(sec)
  let s = `${pad(c.y, 4)}-${pad(c.mo, 2)}-${pad(c.d, 2)}T${pad(c.h, 2)}:${pad(c.mi, 2)}:${pad(c.s, 2)}`
  if (frac !== 0) s += `.${pad(frac, 9).replace(/0+$/, '')}`
  if (t.offsetSeconds === 0) return `${s}Z`
  const off = Math.abs(t.offsetSeconds)
  return `${s}${t.offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(off / 3600), 2)}:${pad(Math.floor((off % 3600) / 60), 2)}`
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/** The value of the decimal digit at `i`, or -1. */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -1
}

/** The number of the `n` digits at `i`, or -1 when one is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0
  for (let k = i; k < i + n; k++) {
    const c = digit(s, k)
    if (c < 0) return -1
    v = v * 10 + c
  }
  return v
}

/**
 * The common form (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`, as Go writes it) read by
 * character codes; undefined for anything else, which the expression reads (and rejects
 * with its message). A walk of 15,000 files parses three times each: with the regular
 * expression and its match strings, that was most of decoding the trees.
 */
function parseCommon(s: string): GoTime | undefined {
  const n = s.length
  if (n < 20 || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':')
    return undefined
  const y = digits(s, 0, 4)
  const mo = digits(s, 5, 2)
  const d = digits(s, 8, 2)
  const h = digits(s, 11, 2)
  const mi = digits(s, 14, 2)
  const se = digits(s, 17, 2)
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59) return undefined
  if (se < 0 || se > 59 || d > (mo === 2 && isLeap(y) ? 29 : MONTH_DAYS[mo - 1]!)) return undefined
  let i = 19
  let fraction = 0
  if (s[i] === '.') {
    i++
    const start = i
    for (let c = digit(s, i); c >= 0; c = digit(s, ++i))
      if (i - start < 9) fraction = fraction * 10 + c
    if (i === start) return undefined
    for (let k = Math.min(i - start, 9); k < 9; k++) fraction *= 10
  }
  let offsetSeconds = 0
  if (i === n - 6 && (s[i] === '+' || s[i] === '-') && s[i + 3] === ':') {
    const oh = digits(s, i + 1, 2)
    const om = digits(s, i + 4, 2)
    if (oh < 0 || om < 0) return undefined
    offsetSeconds = (s[i] === '-' ? -1 : 1) * (oh * 3600 + om * 60)
  } else if (i !== n - 1 || s[i] !== 'Z') {
    return undefined
  }
  const sec = daysFromCivil(y, mo, d) * SECONDS_PER_DAY + h * 3600 + mi * 60 + se - offsetSeconds
  const unixNs = BigInt(sec) * NS_PER_S + (fraction === 0 ? 0n : BigInt(fraction))
  return { unixNs, offsetSeconds }
}

export function parseGoTime(s: string): GoTime {
  const common = parseCommon(s)
  if (common) return common
  const m = RFC3339.exec(s)
  if (!m) throw new Error(`invalid time "${s.slice(0, 60)}": expected RFC 3339`)
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const h = Number(m[4])
  const mi = Number(m[5])
  const se = Number(m[6])
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
    throw new Error(`invalid time "${s}": field out of range`)
  if (d > (mo === 2 && isLeap(y) ? 29 : MONTH_DAYS[mo - 1]!))
    throw new Error(`invalid time "${s}": day out of range`)
  const offsetSeconds = m[8]
    ? 0
    : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60)
  const sec = daysFromCivil(y, mo, d) * SECONDS_PER_DAY + h * 3600 + mi * 60 + se - offsetSeconds
  const digits = m[7]
  const fraction = digits ? Number(digits.slice(0, 9).padEnd(9, '0')) : 0
  const unixNs = BigInt(sec) * NS_PER_S + (fraction === 0 ? 0n : BigInt(fraction))
  return { unixNs, offsetSeconds }
}

/** The local time zone's offset at an instant (what Go's time.Local shows). */
function localOffsetSeconds(unixNs: bigint): number {
  const ms = Number(floorDiv(unixNs, 1_000_000n))
  const tzo = new Date(Number.isFinite(ms) ? ms : 0).getTimezoneOffset()
  return Number.isNaN(tzo) ? 0 : -tzo * 60
}

export function goTimeFromNs(unixNs: bigint): GoTime {
  return { unixNs, offsetSeconds: localOffsetSeconds(unixNs) }
}

export function goTimeNow(): GoTime {
  return goTimeFromNs(BigInt(Date.now()) * 1_000_000n)
}

/** Go's zero time, which restic writes for unset times. */
export const GO_ZERO_TIME: GoTime = parseGoTime('0001-01-01T00:00:00Z')

/**
 * restic's fixTime (internal/data/node.go): JSON cannot hold years outside 0–9999, so the
 * year is clamped and everything else kept.
 */
export function fixGoTime(t: GoTime): GoTime {
  const { sec } = splitLocal(t)
  // The common case needs no calendar.
  if (sec >= YEAR_0 && sec < YEAR_10000) return t
  const local = t.unixNs + BigInt(t.offsetSeconds) * NS_PER_S
  const whole = floorDiv(local, NS_PER_S)
  const year = new Date(Number(whole) * 1000).getUTCFullYear()
  const date = new Date(Number(whole) * 1000)
  date.setUTCFullYear(year < 0 ? 0 : 9999)
  const shifted = BigInt(date.getTime()) / 1000n - whole
  return { unixNs: t.unixNs + shifted * NS_PER_S, offsetSeconds: t.offsetSeconds }
}

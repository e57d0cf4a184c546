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

/** Calendar fields of a UTC-shifted instant (years 0–9999 included). */
function civil(seconds: bigint): {
  y: number
  mo: number
  d: number
  h: number
  mi: number
  s: number
} {
  const date = new Date(Number(seconds) * 1000)
  return {
    y: date.getUTCFullYear(),
    mo: date.getUTCMonth() + 1,
    d: date.getUTCDate(),
    h: date.getUTCHours(),
    mi: date.getUTCMinutes(),
    s: date.getUTCSeconds(),
  }
}

/** Floor division for bigint (BigInt division truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

export function formatGoTime(t: GoTime): string {
  const local = t.unixNs + BigInt(t.offsetSeconds) * NS_PER_S
  const sec = floorDiv(local, NS_PER_S)
  const frac = Number(local - sec * NS_PER_S)
  const c = civil(sec)
  let s = `${pad(c.y, 4)}-${pad(c.mo, 2)}-${pad(c.d, 2)}T${pad(c.h, 2)}:${pad(c.mi, 2)}:${pad(c.s, 2)}`
  if (frac !== 0) s += `.${pad(frac, 9).replace(/0+$/, '')}`
  if (t.offsetSeconds === 0) return `${s}Z`
  const off = Math.abs(t.offsetSeconds)
  return `${s}${t.offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(off / 3600), 2)}:${pad(Math.floor((off % 3600) / 60), 2)}`
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

export function parseGoTime(s: string): GoTime {
  const m = RFC3339.exec(s)
  if (!m) throw new Error(`invalid time "${s.slice(0, 60)}": expected RFC 3339`)
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
    throw new Error(`invalid time "${s}": field out of range`)
  const date = new Date(0)
  date.setUTCFullYear(y, mo - 1, d)
  date.setUTCHours(h, mi, se, 0)
  if (date.getUTCDate() !== d) throw new Error(`invalid time "${s}": day out of range`)
  const fraction = m[7] ? BigInt(m[7].slice(0, 9).padEnd(9, '0')) : 0n
  const offsetSeconds = m[8]
    ? 0
    : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60)
  const unixNs = BigInt(date.getTime()) * 1_000_000n + fraction - BigInt(offsetSeconds) * NS_PER_S
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
  const local = t.unixNs + BigInt(t.offsetSeconds) * NS_PER_S
  const sec = floorDiv(local, NS_PER_S)
  const year = new Date(Number(sec) * 1000).getUTCFullYear()
  if (year >= 0 && year <= 9999) return t
  const date = new Date(Number(sec) * 1000)
  date.setUTCFullYear(year < 0 ? 0 : 9999)
  const shifted = BigInt(date.getTime()) / 1000n - sec
  return { unixNs: t.unixNs + shifted * NS_PER_S, offsetSeconds: t.offsetSeconds }
}

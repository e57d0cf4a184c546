import { InvalidInputError } from '../../errors.js'

/** Output formats of list commands (docs/CLI.md). */
export const FORMATS = ['table', 'csv', 'tsv', 'plain', 'json'] as const
export type Format = (typeof FORMATS)[number]

export function parseFormat(value: string | undefined): Format {
  const v = value ?? 'table'
  if ((FORMATS as readonly string[]).includes(v)) return v as Format
  throw new InvalidInputError(
    'format',
    `--format must be one of ${FORMATS.join(', ')}, not "${v}".`,
  )
}

/** A column of a listing: its key (for --columns), its header, how a row shows it. */
export interface Column<T> {
  readonly key: string
  readonly header: string
  readonly value: (row: T) => string
}

/**
 * Picks columns by key (`--columns created,id,size`, also `*` for all); unknown keys are a
 * usage error that lists the known ones.
 */
export function pickColumns<T>(
  all: readonly Column<T>[],
  defaults: readonly string[],
  wanted: readonly string[] | undefined,
): Column<T>[] {
  const keys = (wanted && wanted.length > 0 ? wanted : defaults)
    .flatMap((w) => w.split(','))
    .map((k) =>
      k
        .trim()
        .toLowerCase()
        .replace(/[\s-]+/g, '_'),
    )
    .filter((k) => k !== '')
  const out: Column<T>[] = []
  for (const k of keys) {
    if (k === '*') {
      out.push(...all)
      continue
    }
    const c = all.find(
      (col) => col.key === k || col.header.toLowerCase().replace(/\s+/g, '_') === k,
    )
    if (!c)
      throw new InvalidInputError(
        'columns',
        `Unknown column "${k}": choose from ${all.map((col) => col.key).join(', ')}.`,
      )
    out.push(c)
  }
  return out
}

/** Renders rows as a bordered table, CSV (RFC 4180), TSV or plain aligned text. */
export function renderRows(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  format: Exclude<Format, 'json'>,
  withHeader = true,
): string {
  const all = withHeader ? [headers, ...rows] : [...rows]
  switch (format) {
    case 'table':
      return boxTable(headers, rows, withHeader)
    case 'csv':
      return all.map((r) => r.map(csvCell).join(',')).join('\n') + '\n'
    case 'tsv':
      return all.map((r) => r.map(tsvCell).join('\t')).join('\n') + '\n'
    case 'plain': {
      const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
      return (
        all
          .map((r) =>
            r
              .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
              .join('  ')
              .trimEnd(),
          )
          .join('\n') + '\n'
      )
    }
    default:
      return format satisfies never
  }
}

function boxTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  withHeader: boolean,
): string {
  const widths = headers.map((h, i) =>
    Math.max(withHeader ? h.length : 0, ...rows.map((r) => (r[i] ?? '').length)),
  )
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`
  const line = (r: readonly string[]): string =>
    `| ${widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`
  const out = [rule]
  if (withHeader) out.push(line(headers), rule)
  for (const r of rows) out.push(line(r))
  out.push(rule)
  return out.join('\n') + '\n'
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
}

function tsvCell(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n')
}

/** Key/value pairs (a `get` command) as a two-column table or lines. */
export function renderProperties(
  pairs: readonly (readonly [string, string])[],
  format: Exclude<Format, 'json'>,
): string {
  return renderRows(
    ['Property', 'Value'],
    pairs.map(([k, v]) => [k, v]),
    format,
  )
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/**
 * Formats an ISO timestamp with a PHP-style date format, as the PaaS CLI's --date-fmt does,
 * always in UTC: `c` (default; 2026-03-08T17:07:01+00:00), `U`, and the letters Y m d H i s
 * P T; a backslash escapes a letter.
 */
export function formatDate(iso: string | null | undefined, fmt = 'c'): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const parts: Record<string, () => string> = {
    Y: () => String(d.getUTCFullYear()),
    m: () => pad(d.getUTCMonth() + 1),
    d: () => pad(d.getUTCDate()),
    H: () => pad(d.getUTCHours()),
    i: () => pad(d.getUTCMinutes()),
    s: () => pad(d.getUTCSeconds()),
    P: () => '+00:00',
    T: () => 'UTC',
    U: () => String(Math.floor(d.getTime() / 1000)),
    c: () => `${formatDate(iso, 'Y-m-d\\TH:i:sP')}`,
  }
  let out = ''
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!
    if (ch === '\\' && i + 1 < fmt.length) {
      out += fmt[++i]
      continue
    }
    out += parts[ch]?.() ?? ch
  }
  return out
}

/** Bytes as the PaaS shows them: B, KiB, MiB, GiB with one decimal. */
export function formatSize(n: number | null | undefined): string {
  if (n === null || n === undefined) return ''
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`
}

/** A duration in words: "45 secs", "3 mins 20 secs", "1 hour 5 mins". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const unit = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`
  if (s < 60) return unit(s, 'sec')
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 ? `${unit(m, 'min')} ${unit(s % 60, 'sec')}` : unit(m, 'min')
  const h = Math.floor(m / 60)
  return m % 60 ? `${unit(h, 'hour')} ${unit(m % 60, 'min')}` : unit(h, 'hour')
}

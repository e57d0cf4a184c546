import type { ExtendedAttribute } from '../../repo/index.js'

/** Extended attributes of a path, keyed by the raw path bytes read as latin1 (one char per byte). */
export type XattrMap = Map<string, readonly ExtendedAttribute[]>

const BACKSLASH = 0x5c
const NEWLINE = 0x0a

/**
 * Undoes the quoting of attr's getfattr (libmisc/quote.c): a backslash, a newline and other
 * bytes it considers unsafe are written as `\ooo` (three octal digits); every other byte,
 * including non-UTF-8 ones, is written raw.
 */
export function unquote(q: Buffer): Buffer {
  if (!q.includes(BACKSLASH)) return q
  const out = Buffer.allocUnsafe(q.length)
  let n = 0
  for (let i = 0; i < q.length; i++) {
    const c = q[i]!
    if (c === BACKSLASH && isOctal(q, i + 1)) {
      out[n++] = (q[i + 1]! - 0x30) * 64 + (q[i + 2]! - 0x30) * 8 + (q[i + 3]! - 0x30)
      i += 3
    } else {
      out[n++] = c
    }
  }
  return out.subarray(0, n)
}

function isOctal(b: Buffer, at: number): boolean {
  for (let i = at; i < at + 3; i++) {
    const c = b[i]
    if (c === undefined || c < 0x30 || c > 0x37) return false
  }
  return true
}

/** Quotes bytes as getfattr does, for setfattr --restore (which unquotes the same way). */
export function quote(raw: Uint8Array): Buffer {
  const parts: number[] = []
  for (const c of raw) {
    // Control characters, space (names are split at '=' and trimmed), '=', backslash, DEL.
    if (c <= 0x20 || c === 0x3d || c === BACKSLASH || c === 0x7f) {
      parts.push(BACKSLASH, 0x30 + (c >> 6), 0x30 + ((c >> 3) & 7), 0x30 + (c & 7))
    } else {
      parts.push(c)
    }
  }
  return Buffer.from(parts)
}

/**
 * Parses `getfattr --dump --absolute-names -e base64` output: blocks of `# file: PATH`
 * followed by `name=0sBASE64` lines. Paths with no attribute do not appear.
 */
export function parseDump(out: Buffer): XattrMap {
  const map: XattrMap = new Map()
  let path: string | undefined
  let attrs: ExtendedAttribute[] = []
  const flush = (): void => {
    if (path !== undefined && attrs.length > 0) {
      attrs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      map.set(path, attrs)
    }
    path = undefined
    attrs = []
  }
  let start = 0
  while (start < out.length) {
    let end = out.indexOf(NEWLINE, start)
    if (end < 0) end = out.length
    const line = out.subarray(start, end)
    start = end + 1
    if (line.length === 0) {
      flush()
      continue
    }
    if (line.subarray(0, 8).toString('latin1') === '# file: ') {
      flush()
      path = unquote(line.subarray(8)).toString('latin1')
      continue
    }
    if (path === undefined || line[0] === 0x23) continue
    const eq = line.indexOf(0x3d)
    const name = unquote(eq < 0 ? line : line.subarray(0, eq)).toString('utf8')
    const value = eq < 0 ? '' : line.subarray(eq + 1).toString('latin1')
    attrs.push({ name, value: decodeValue(value) })
  }
  flush()
  return map
}

/** getfattr's value encodings: `0s` base64, `0x` hex, or a quoted string. */
function decodeValue(v: string): Buffer {
  if (v.startsWith('0s')) return Buffer.from(v.slice(2), 'base64')
  if (v.startsWith('0x')) return Buffer.from(v.slice(2), 'hex')
  if (v.startsWith('"') && v.endsWith('"')) return unquote(Buffer.from(v.slice(1, -1), 'latin1'))
  return Buffer.from(v, 'latin1')
}

/** Writes the `setfattr --restore` input that sets `attrs` on each path. */
export function formatDump(
  entries: readonly { readonly path: Uint8Array; readonly attrs: readonly ExtendedAttribute[] }[],
): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    if (e.attrs.length === 0) continue
    parts.push(Buffer.from('# file: '), quote(e.path), Buffer.from('\n'))
    for (const a of e.attrs) {
      // An empty value as `""`: setfattr's base64 and hex decoders give an empty value as
      // no value when nothing was decoded before in the same run, and skip the attribute.
      const value = a.value.length === 0 ? '""' : `0s${Buffer.from(a.value).toString('base64')}`
      parts.push(quote(Buffer.from(a.name, 'utf8')), Buffer.from(`=${value}\n`))
    }
    parts.push(Buffer.from('\n'))
  }
  return Buffer.concat(parts)
}

/** Whether two attribute lists hold the same names and values (order ignored). */
export function sameXattrs(
  a: readonly ExtendedAttribute[] | undefined,
  b: readonly ExtendedAttribute[] | undefined,
): boolean {
  const x = a ?? []
  const y = b ?? []
  if (x.length !== y.length) return false
  const byName = new Map(y.map((e) => [e.name, e.value]))
  return x.every((e) => {
    const v = byName.get(e.name)
    return v !== undefined && Buffer.compare(Buffer.from(e.value), Buffer.from(v)) === 0
  })
}

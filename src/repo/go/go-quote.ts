/**
 * Go's `strconv.Quote` and `strconv.Unquote` for node names (FORMAT-NOTES.md: restic stores
 * a name as Quote(name) without the surrounding quotes). Names are raw bytes: invalid UTF-8
 * becomes `\xNN`, non-printable runes `\uNNNN`/`\UNNNNNNNN`, printable runes stay as is.
 *
 * "Printable" is Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the
 * ASCII space, per the Unicode tables of the Go release (Unicode 15 since Go 1.21; the same
 * categories JavaScript's `\p{…}` classes use here). restic 0.14 was built with Go 1.19
 * (Unicode 13): for code points assigned in Unicode 14 or 15 it escapes what we keep; restic
 * reads either form back to the same bytes.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u
const HEX = '0123456789abcdef'

function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f
  return PRINTABLE.test(String.fromCodePoint(r))
}

/**
 * Decodes one UTF-8 rune at `i` as Go's utf8.DecodeRune does: returns [rune, width], or
 * [-1, 1] for an invalid byte (overlong forms, surrogates, > U+10FFFF, truncated).
 */
export function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i]!
  if (c0 < 0x80) return [c0, 1]
  const n = b.length - i
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = b[i + 1]
    if (n >= 2 && c1 !== undefined && (c1 & 0xc0) === 0x80)
      return [((c0 & 0x1f) << 6) | (c1 & 0x3f), 2]
    return [-1, 1]
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = b[i + 1]
    const c2 = b[i + 2]
    if (n < 3 || c1 === undefined || c2 === undefined) return [-1, 1]
    const lo = c0 === 0xe0 ? 0xa0 : 0x80
    const hi = c0 === 0xed ? 0x9f : 0xbf // 0xED A0..BF would be a surrogate
    if (c1 < lo || c1 > hi || (c2 & 0xc0) !== 0x80) return [-1, 1]
    return [((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f), 3]
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = b[i + 1]
    const c2 = b[i + 2]
    const c3 = b[i + 3]
    if (n < 4 || c1 === undefined || c2 === undefined || c3 === undefined) return [-1, 1]
    const lo = c0 === 0xf0 ? 0x90 : 0x80
    const hi = c0 === 0xf4 ? 0x8f : 0xbf
    if (c1 < lo || c1 > hi || (c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80) return [-1, 1]
    return [((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f), 4]
  }
  return [-1, 1]
}

const ESCAPES: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  11: '\\v',
}

/** Printable ASCII without `"` and `\`: the common case, copied as is. */
function plainAscii(name: Uint8Array): boolean {
  for (const c of name) if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) return false
  return true
}

/** `strconv.Quote(string(name))` without the surrounding quotes. */
export function quoteGoName(name: Uint8Array): string {
  if (plainAscii(name))
    return Buffer.from(name.buffer, name.byteOffset, name.length).toString('latin1')
  const out: string[] = []
  for (let i = 0; i < name.length;) {
    const [r, w] = decodeRune(name, i)
    if (r < 0) {
      const c = name[i]!
      out.push('\\x', HEX[c >> 4]!, HEX[c & 15]!)
    } else if (r === 0x22 || r === 0x5c) {
      out.push('\\', String.fromCharCode(r))
    } else if (isPrint(r)) {
      out.push(String.fromCodePoint(r))
    } else if (ESCAPES[r]) {
      out.push(ESCAPES[r])
    } else if (r < 0x20 || r === 0x7f) {
      out.push('\\x', HEX[r >> 4]!, HEX[r & 15]!)
    } else if (r < 0x10000) {
      out.push('\\u', r.toString(16).padStart(4, '0'))
    } else {
      out.push('\\U', r.toString(16).padStart(8, '0'))
    }
    i += w
  }
  return out.join('')
}

const UNESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 0x5c,
  '"': 0x22,
}

/** `strconv.Unquote('"' + quoted + '"')` as bytes; throws on what Go rejects. */
export function unquoteGoName(quoted: string): Uint8Array {
  if (!/[\\"\n]/.test(quoted)) return Buffer.from(quoted, 'utf8')
  const bytes: number[] = []
  const pushRune = (r: number): void => {
    for (const b of Buffer.from(String.fromCodePoint(r), 'utf8')) bytes.push(b)
  }
  const hex = (s: string, from: number, n: number): number => {
    const h = s.slice(from, from + n)
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h))
      throw new Error(`invalid escape in quoted name "${quoted.slice(0, 80)}"`)
    return parseInt(h, 16)
  }
  for (let i = 0; i < quoted.length;) {
    const ch = quoted[i]!
    if (ch === '"' || ch === '\n')
      throw new Error(`unescaped ${ch === '"' ? 'quote' : 'newline'} in quoted name`)
    if (ch !== '\\') {
      const cp = quoted.codePointAt(i)!
      pushRune(cp)
      i += cp > 0xffff ? 2 : 1
      continue
    }
    const e = quoted[i + 1]
    if (e === undefined) throw new Error('quoted name ends with a backslash')
    if (e in UNESCAPES) {
      bytes.push(UNESCAPES[e]!)
      i += 2
    } else if (e === 'x') {
      bytes.push(hex(quoted, i + 2, 2))
      i += 4
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8
      const r = hex(quoted, i + 2, n)
      if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
        throw new Error(`invalid rune \\${e}${r.toString(16)} in quoted name`)
      pushRune(r)
      i += 2 + n
    } else if (e >= '0' && e <= '7') {
      const o = quoted.slice(i + 1, i + 4)
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255)
        throw new Error('invalid octal escape in quoted name')
      bytes.push(parseInt(o, 8))
      i += 4
    } else {
      throw new Error(`invalid escape \\${e} in quoted name`)
    }
  }
  return Buffer.from(bytes)
}

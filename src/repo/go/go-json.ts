/**
 * Go's `encoding/json` output for the values restic writes, so that Coffer's trees and
 * snapshots are byte-identical to restic's for the same content. Strings follow Go's
 * encoder with HTML escaping on (its default): `<`, `>`, `&` as `\u003c`…, U+2028/U+2029
 * escaped, control characters as `\n`, `\r`, `\t`, `\b`, `\f` (Go ≥ 1.22; older Go wrote
 * `\u0008`, `\u000c`) or `\u00XX`, and invalid text (lone surrogates here) as `\ufffd`.
 */
// eslint-disable-next-line no-control-regex -- control characters are what must be escaped
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/
const HEX = '0123456789abcdef'

export function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`
  const out: string[] = ['"']
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        out.push(s[i]!, s[i + 1]!)
        i++
      } else {
        out.push('\\ufffd')
      }
      continue
    }
    if (c >= 0xdc00 && c <= 0xdfff) out.push('\\ufffd')
    else if (c === 0x22) out.push('\\"')
    else if (c === 0x5c) out.push('\\\\')
    else if (c === 0x0a) out.push('\\n')
    else if (c === 0x0d) out.push('\\r')
    else if (c === 0x09) out.push('\\t')
    else if (c === 0x08) out.push('\\b')
    else if (c === 0x0c) out.push('\\f')
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26)
      out.push('\\u00', HEX[c >> 4]!, HEX[c & 15]!)
    else if (c === 0x2028 || c === 0x2029) out.push(c === 0x2028 ? '\\u2028' : '\\u2029')
    else out.push(s[i]!)
  }
  out.push('"')
  return out.join('')
}

export type GoJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly GoJsonValue[]
  | { readonly [key: string]: GoJsonValue }

/**
 * Compact JSON as `json.Marshal` writes it: keys in the order given (the caller builds
 * objects in Go's struct-field order and leaves out omitempty fields), integers only,
 * `[]byte` as standard base64.
 */
export function goJsonMarshal(v: GoJsonValue): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`)
    return String(v)
  }
  if (typeof v === 'string') return goJsonString(v)
  if (v instanceof Uint8Array)
    return `"${Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64')}"`
  if (Array.isArray(v)) return `[${(v as readonly GoJsonValue[]).map(goJsonMarshal).join(',')}]`
  const obj = v as { readonly [key: string]: GoJsonValue }
  return `{${Object.keys(obj)
    .map((k) => `${goJsonString(k)}:${goJsonMarshal(obj[k]!)}`)
    .join(',')}}`
}

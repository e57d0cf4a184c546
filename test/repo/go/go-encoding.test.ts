import { describe, expect, it } from 'vitest'
import {
  fixGoTime,
  formatGoTime,
  goJsonString,
  parseGoTime,
  quoteGoName,
  unquoteGoName,
} from '../../../src/repo/go/index.js'

const b = (s: string): Buffer => Buffer.from(s, 'utf8')

describe('Go strconv.Quote of names', () => {
  // Cases from Go's strconv/quote_test.go (quotetests), without the surrounding quotes.
  const cases = [
    { in: b('\x07\b\f\r\n\t\v'), out: '\\a\\b\\f\\r\\n\\t\\v' },
    { in: b('\\'), out: '\\\\' },
    { in: Buffer.from([0x61, 0x62, 0x63, 0xff, 0x64, 0x65, 0x66]), out: 'abc\\xffdef' },
    { in: b('\u263a'), out: '☺' },
    { in: b('\u{10ffff}'), out: '\\U0010ffff' },
    { in: b('\x04'), out: '\\x04' },
    { in: b('!\u00a0!\u2000!\u3000!'), out: '!\\u00a0!\\u2000!\\u3000!' },
    { in: b('\x7f'), out: '\\x7f' },
    { in: b('"quoted"'), out: '\\"quoted\\"' },
    { in: b('café 李 🎉'), out: 'café 李 🎉' },
    { in: Buffer.from([0xed, 0xa0, 0x80]), out: '\\xed\\xa0\\x80' }, // an encoded surrogate is invalid UTF-8
    { in: Buffer.from([0xc0, 0xaf]), out: '\\xc0\\xaf' }, // overlong
    { in: b('\u200b'), out: '\\u200b' },
  ]
  it.each(cases)('quotes $out', ({ in: name, out }) => {
    expect(quoteGoName(name)).toBe(out)
    expect(Buffer.from(unquoteGoName(out)).equals(name)).toBe(true)
  })

  it.each(['a"b', 'a\nb', '\\q', '\\x4', '\\u12', '\\400', '\\ud800', 'end\\'])(
    'rejects %j as Go does',
    (bad) => {
      expect(() => unquoteGoName(bad)).toThrow()
    },
  )

  it('unquotes octal and \\u forms Go accepts but does not write', () => {
    expect(Buffer.from(unquoteGoName('\\101\\u00e9')).toString('utf8')).toBe('Aé')
  })
})

describe('Go encoding/json strings', () => {
  it.each([
    { in: 'plain', out: '"plain"' },
    { in: '<a href="x">&</a>', out: '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"' },
    { in: 'line\nbreak\ttab\r\b\f', out: '"line\\nbreak\\ttab\\r\\b\\f"' },
    { in: '\u0001\u001f', out: '"\\u0001\\u001f"' },
    { in: '\u2028\u2029', out: '"\\u2028\\u2029"' },
    { in: 'lone \ud800 surrogate', out: '"lone \\ufffd surrogate"' },
    { in: 'emoji 🎉', out: '"emoji 🎉"' },
  ])('encodes $in', ({ in: s, out }) => {
    expect(goJsonString(s)).toBe(out)
  })
})

describe('Go time.Time in RFC 3339 with nanoseconds', () => {
  it.each([
    '2014-12-06T17:50:23.34513538+01:00',
    '2015-01-02T18:10:50.895208559+01:00',
    '2026-11-25T04:05:00Z',
    '2020-02-29T12:34:56.7-03:30',
    '0001-01-01T00:00:00Z',
    '1969-12-31T23:59:59.999999999Z',
    '9999-12-31T23:59:59.123456789+14:00',
  ])('round-trips %s', (s) => {
    expect(formatGoTime(parseGoTime(s))).toBe(s)
  })

  it('keeps the instant across offsets and reads lower-case z and long fractions', () => {
    expect(parseGoTime('2020-01-01T01:00:00+01:00').unixNs).toBe(
      parseGoTime('2020-01-01T00:00:00Z').unixNs,
    )
    expect(parseGoTime('2020-01-01T00:00:00.1234567891z').unixNs % 1_000_000_000n).toBe(123456789n)
  })

  it('reads the forms Go writes and the other RFC 3339 spellings to the same instants', () => {
    // 'T', 'Z' and '.' are read by character codes; 't', 'z' and ',' by the expression.
    const pairs: [string, string][] = [
      ['2020-06-01T10:20:30.000000001Z', '2020-06-01t10:20:30,000000001z'],
      ['2020-06-01T10:20:30.5+02:00', '2020-06-01t10:20:30,5+02:00'],
      ['1999-12-31T23:59:59-00:30', '1999-12-31t23:59:59-00:30'],
      ['2020-06-01T10:20:30.123456789123Z', '2020-06-01T10:20:30,123456789123z'],
    ]
    for (const [common, other] of pairs) expect(parseGoTime(common)).toEqual(parseGoTime(other))
    expect(parseGoTime('2020-06-01T10:20:30.5+02:00')).toEqual({
      // 08:20:30.5 UTC
      unixNs: 1_590_999_630_500_000_000n,
      offsetSeconds: 7200,
    })
  })

  it.each([
    ['2020-01-01T24:00:00Z', /field out of range/],
    ['2020-01-01T00:60:00Z', /field out of range/],
    ['2020-01-01T00:00:60Z', /field out of range/],
    ['2020-00-10T00:00:00Z', /field out of range/],
    ['2021-02-29T00:00:00Z', /day out of range/],
    ['2020-01-01T00:00:00.Z', /expected RFC 3339/],
    ['2020-01-01T00:00:00+0100', /expected RFC 3339/],
    ['2020-01-01T00:00:00Zjunk', /expected RFC 3339/],
    ['2020-01-01T00:00:00+01:00x', /expected RFC 3339/],
    ['2020-01-01T00:00:0aZ', /expected RFC 3339/],
    ['2020-01-01T00:00:00+1a:00', /expected RFC 3339/],
  ])('rejects %s with its reason', (s, why) => {
    expect(() => parseGoTime(s)).toThrow(why)
  })

  it.each(['2020-13-01T00:00:00Z', '2020-02-30T00:00:00Z', 'yesterday', '2020-01-01 00:00:00Z'])(
    'rejects %s',
    (s) => {
      expect(() => parseGoTime(s)).toThrow()
    },
  )
})

// The calendar arithmetic of parseGoTime/formatGoTime/fixGoTime against Date's, as the
// functions were written before (a Date object per call), over random instants and offsets.
describe('Go times against a Date-based reference', () => {
  const NS = 1_000_000_000n
  const pad = (n: number, w: number): string => String(n).padStart(w, '0')
  const floorDiv = (a: bigint, b: bigint): bigint => {
    const q = a / b
    return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
  }
  function referenceFormat(t: { unixNs: bigint; offsetSeconds: number }): string {
    const local = t.unixNs + BigInt(t.offsetSeconds) * NS
    const sec = floorDiv(local, NS)
    const frac = Number(local - sec * NS)
    const d = new Date(Number(sec) * 1000)
    let s = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
    if (frac !== 0) s += `.${pad(frac, 9).replace(/0+$/, '')}`
    if (t.offsetSeconds === 0) return `${s}Z`
    const off = Math.abs(t.offsetSeconds)
    return `${s}${t.offsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(off / 3600), 2)}:${pad(Math.floor((off % 3600) / 60), 2)}`
  }
  function referenceFix(t: { unixNs: bigint; offsetSeconds: number }): bigint {
    const local = t.unixNs + BigInt(t.offsetSeconds) * NS
    const sec = floorDiv(local, NS)
    const year = new Date(Number(sec) * 1000).getUTCFullYear()
    if (year >= 0 && year <= 9999) return t.unixNs
    const date = new Date(Number(sec) * 1000)
    date.setUTCFullYear(year < 0 ? 0 : 9999)
    return t.unixNs + (BigInt(date.getTime()) / 1000n - sec) * NS
  }

  it('formats, parses and clamps every instant as Date does', () => {
    let seed = 12345
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    // Years 0 to 9999, all offsets restic meets, fractions with and without trailing zeros.
    const first = -62_167_219_200 // 0000-01-01T00:00:00Z
    const last = 253_402_300_799 // 9999-12-31T23:59:59Z
    for (let i = 0; i < 20_000; i++) {
      const sec = first + rand(last - first) + (i % 7 === 0 ? 0 : rand(1000))
      const frac = i % 3 === 0 ? 0 : i % 3 === 1 ? rand(1000) * 1_000_000 : rand(1_000_000_000)
      const offsetSeconds = [0, 3600, -18_000, 19_800, -34_200, 50_400][i % 6]!
      const t = { unixNs: BigInt(sec - offsetSeconds) * NS + BigInt(frac), offsetSeconds }
      const s = formatGoTime(t)
      expect(s).toBe(referenceFormat(t))
      if (/^\d{4}-/.test(s)) expect(parseGoTime(s)).toEqual(t)
    }
    // Outside years 0–9999, fixGoTime clamps the year as before.
    for (const sec of [-70_000_000_000, -62_167_219_201, 253_402_300_800, 300_000_000_000]) {
      const t = { unixNs: BigInt(sec) * NS + 5n, offsetSeconds: 3600 }
      expect(fixGoTime(t).unixNs).toBe(referenceFix(t))
    }
    for (const s of ['2023-02-29T00:00:00Z', '2100-02-29T00:00:00Z', '2023-04-31T00:00:00Z'])
      expect(() => parseGoTime(s)).toThrow(/day out of range/)
    expect(parseGoTime('2024-02-29T00:00:00Z').unixNs).toBe(1_709_164_800n * NS)
    expect(parseGoTime('2000-02-29T23:59:59.5-01:00').unixNs).toBe(951_872_399n * NS + 500_000_000n)
  })
})

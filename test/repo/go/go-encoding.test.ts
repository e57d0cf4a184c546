import { describe, expect, it } from 'vitest'
import {
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

  it.each(['2020-13-01T00:00:00Z', '2020-02-30T00:00:00Z', 'yesterday', '2020-01-01 00:00:00Z'])(
    'rejects %s',
    (s) => {
      expect(() => parseGoTime(s)).toThrow()
    },
  )
})

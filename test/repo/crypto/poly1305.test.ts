import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  POLY1305_LOADED_FROM,
  poly1305,
  poly1305Verify,
} from '../../../src/repo/crypto/poly1305.js'

// The package's entry point, with its checking wrappers: what the direct load must agree with.
const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_onetimeauth(out: Uint8Array, input: Uint8Array, key: Uint8Array): void
}

describe('poly1305', () => {
  it('loads the prebuilt addon directly where the package ships one for this platform', () => {
    // linux-x64 is among sodium-native's prebuilds: the slow resolver chain is skipped.
    expect(POLY1305_LOADED_FROM).toBe('prebuilds')
  })

  it('gives the test vector of RFC 8439, section 2.5.2', () => {
    const key = Buffer.from(
      '85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b',
      'hex',
    )
    const mac = Buffer.alloc(16)
    poly1305(mac, Buffer.from('Cryptographic Forum Research Group'), key)
    expect(mac.toString('hex')).toBe('a8061dc1305136c6c22b8baf0c0127a9')
  })

  it('agrees with the package on inputs of any length, and verifies', () => {
    for (const n of [0, 1, 15, 16, 17, 1000, 65_537]) {
      const input = randomBytes(n)
      const key = randomBytes(32)
      const want = Buffer.alloc(16)
      sodium.crypto_onetimeauth(want, input, key)
      const got = Buffer.alloc(16)
      poly1305(got, input, key)
      expect(got.equals(want)).toBe(true)
      expect(poly1305Verify(got, input, key)).toBe(true)
      const bad = Buffer.from(got)
      bad[n % 16]! ^= 1
      expect(poly1305Verify(bad, input, key)).toBe(false)
    }
  })

  it('refuses a MAC or key of the wrong length before calling the addon', () => {
    expect(() => poly1305(Buffer.alloc(15), Buffer.alloc(1), Buffer.alloc(32))).toThrow(
      /MAC is 16 bytes/,
    )
    expect(() => poly1305Verify(Buffer.alloc(16), Buffer.alloc(1), Buffer.alloc(31))).toThrow(
      /key is 32 bytes/,
    )
  })
})

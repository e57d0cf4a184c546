import { randomBytes, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { scrypt64, startedScryptCount, startScrypt64 } from '../../src/lib/scrypt-derivation.js'

const params = { N: 1024, r: 8, p: 1 }
const expected = (password: string, salt: Buffer): Buffer =>
  scryptSync(Buffer.from(password, 'utf8'), salt, 64, params)

describe('scrypt derivations started early', () => {
  it('derives what scrypt derives', async () => {
    const salt = randomBytes(64)
    expect((await scrypt64('pw', salt, params)).equals(expected('pw', salt))).toBe(true)
  })

  it('hands a started derivation to the first taker with the same inputs, once', async () => {
    const salt = randomBytes(64)
    startScrypt64('pw', salt, params)
    startScrypt64('pw', salt, params)
    expect(startedScryptCount()).toBe(1)
    const taken = await scrypt64('pw', salt, params)
    expect(startedScryptCount()).toBe(0)
    expect(taken.equals(expected('pw', salt))).toBe(true)
    // Taken once: the next call derives anew, with the same result.
    expect((await scrypt64('pw', salt, params)).equals(taken)).toBe(true)
  })

  it('never gives a derivation of another password, salt or cost', async () => {
    const salt = randomBytes(64)
    startScrypt64('early', salt, params)
    const other = await scrypt64('typed', salt, params)
    expect(other.equals(expected('typed', salt))).toBe(true)
    expect(startedScryptCount()).toBe(0)

    startScrypt64('pw', salt, params)
    const otherSalt = randomBytes(64)
    expect((await scrypt64('pw', otherSalt, params)).equals(expected('pw', otherSalt))).toBe(true)
    const cheaper = { N: 512, r: 8, p: 1 }
    expect((await scrypt64('pw', salt, cheaper)).equals(scryptSync('pw', salt, 64, cheaper))).toBe(
      true,
    )
    expect(startedScryptCount()).toBe(1)
    await scrypt64('pw', salt, params)
    expect(startedScryptCount()).toBe(0)
  })

  it('keeps a failed start for its taker instead of throwing', async () => {
    const salt = randomBytes(16)
    const bad = { N: 1000, r: 8, p: 1 }
    expect(() => startScrypt64('pw', salt, bad)).not.toThrow()
    await expect(scrypt64('pw', salt, bad)).rejects.toThrow(/N|scrypt/i)
    expect(startedScryptCount()).toBe(0)
  })
})

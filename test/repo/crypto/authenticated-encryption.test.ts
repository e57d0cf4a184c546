import { createCipheriv } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Scratch } from '../../../src/lib/index.js'
import { MasterKey } from '../../../src/repo/crypto/index.js'
import { IV_SIZE, MAC_SIZE, open, seal } from '../../../src/repo/crypto/authenticated-encryption.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'

// seal and open work in 64 KiB pieces (into a caller's buffer for open): the result must be
// exactly restic's IV || AES-256-CTR(plaintext) || MAC whatever the length, around the
// piece boundaries too, and a reused buffer must never leak an earlier blob's bytes.
const key = MasterKey.random()
const SIZES = [0, 1, 4095, 65_535, 65_536, 65_537, 3 * 65_536, 200_001, 1024 * 1024 + 3]

describe('authenticated encryption in pieces', () => {
  it('seals to AES-256-CTR of the whole plaintext under the stored IV', () => {
    for (const n of SIZES) {
      const plain = seededBytes(`p${n}`, n)
      const sealed = seal(key, plain)
      expect(sealed.length).toBe(n + IV_SIZE + MAC_SIZE)
      const iv = sealed.subarray(0, IV_SIZE)
      const oneShot = createCipheriv('aes-256-ctr', key.encrypt, iv).update(plain)
      expect(Buffer.compare(sealed.subarray(IV_SIZE, IV_SIZE + n), oneShot), `size ${n}`).toBe(0)
    }
  })

  it('opens into a reused buffer exactly as into a fresh one, large and small in turn', () => {
    const scratch = new Scratch()
    const order = [...SIZES, ...SIZES.slice().reverse()]
    for (const n of order) {
      const plain = seededBytes(`o${n}`, n)
      const sealed = seal(key, plain)
      const fresh = open(key, sealed)
      const reused = open(key, sealed, scratch)
      expect(fresh && Buffer.compare(fresh, plain), `size ${n}`).toBe(0)
      expect(reused && Buffer.compare(reused, plain), `size ${n}`).toBe(0)
    }
  })

  it('refuses a changed byte or a wrong key, with or without the buffer', () => {
    const plain = seededBytes('tamper', 300_000)
    const sealed = seal(key, plain)
    for (const at of [0, IV_SIZE + 70_000, sealed.length - 1]) {
      const bad = Buffer.from(sealed)
      bad[at] = bad[at]! ^ 1
      expect(open(key, bad)).toBeUndefined()
      expect(open(key, bad, new Scratch())).toBeUndefined()
    }
    expect(open(MasterKey.random(), sealed, new Scratch())).toBeUndefined()
  })
})

describe('Scratch', () => {
  it('gives views of one buffer, grown with headroom only when too small', () => {
    const s = new Scratch()
    const a = s.take(1000)
    const b = s.take(1200)
    expect(b.buffer).toBe(a.buffer)
    expect(b.length).toBe(1200)
    const c = s.take(5000)
    expect(c.buffer).not.toBe(a.buffer)
    expect(s.take(10).buffer).toBe(c.buffer)
  })
})

import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addKeyFile,
  LocalBackend,
  Repository,
  TEST_KDF,
  UserKeyCache,
} from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const bytesOf = async (k: Promise<{ toRepoJSON(): string }>): Promise<string> =>
  (await k).toRepoJSON()

describe('derived user keys kept between opens (UserKeyCache)', () => {
  it('derives once per password, salt and parameters', async () => {
    const cache = new UserKeyCache()
    const salt = randomBytes(64)
    const a = await bytesOf(cache.derive('pw', salt, TEST_KDF))
    expect(await bytesOf(cache.derive('pw', salt, TEST_KDF))).toBe(a)
    expect(cache.derivations).toBe(1)
    expect(await bytesOf(cache.derive('other', salt, TEST_KDF))).not.toBe(a)
    expect(await bytesOf(cache.derive('pw', randomBytes(64), TEST_KDF))).not.toBe(a)
    expect(await bytesOf(cache.derive('pw', salt, { ...TEST_KDF, N: 512 }))).not.toBe(a)
    expect(cache.derivations).toBe(4)
    expect(cache.size).toBe(4)
  })

  it('lets the least recently used go past its size', async () => {
    const cache = new UserKeyCache(2)
    const salt = randomBytes(64)
    await cache.derive('a', salt, TEST_KDF)
    await cache.derive('b', salt, TEST_KDF)
    await cache.derive('a', salt, TEST_KDF)
    await cache.derive('c', salt, TEST_KDF)
    expect(cache.derivations).toBe(3)
    await cache.derive('a', salt, TEST_KDF)
    expect(cache.derivations).toBe(3)
    await cache.derive('b', salt, TEST_KDF)
    expect(cache.derivations).toBe(4)
    expect(cache.size).toBe(2)
  })

  it('does not keep a derivation that failed', async () => {
    const cache = new UserKeyCache()
    const bad = { N: 1000, r: 8, p: 1 }
    await expect(cache.derive('pw', randomBytes(64), bad)).rejects.toThrow(/power of two/)
    expect(cache.size).toBe(0)
  })

  describe('with a repository', () => {
    let tmp: { path: string; cleanup: () => Promise<void> }
    let path: string

    beforeAll(async () => {
      tmp = await makeTempDir('user-key-cache')
      path = join(tmp.path, 'repo')
      await Repository.init({
        backend: await LocalBackend.open(path),
        password: 'a',
        kdf: TEST_KDF,
      })
    })
    afterAll(() => tmp.cleanup())

    it('opens again without deriving, to the same master key', async () => {
      const userKeys = new UserKeyCache()
      const first = await Repository.open({
        backend: await LocalBackend.open(path),
        password: 'a',
        userKeys,
      })
      const second = await Repository.open({
        backend: await LocalBackend.open(path),
        password: 'a',
        userKeys,
      })
      expect(userKeys.derivations).toBe(1)
      expect(second.key.toRepoJSON()).toBe(first.key.toRepoJSON())
      await expect(
        Repository.open({ backend: await LocalBackend.open(path), password: 'wrong', userKeys }),
      ).rejects.toThrow(/Wrong password/)
    })

    it('no longer opens with the password of a key file removed since', async () => {
      const userKeys = new UserKeyCache()
      const backend = await LocalBackend.open(path)
      const repo = await Repository.open({ backend, password: 'a', userKeys })
      const id = await addKeyFile(backend, repo.key, 'b', TEST_KDF)
      await Repository.open({ backend, password: 'b', userKeys })
      await backend.remove({ type: 'keys', name: id })
      await expect(Repository.open({ backend, password: 'b', userKeys })).rejects.toThrow(
        /Wrong password/,
      )
      // Still opens with the password whose key file stays.
      await Repository.open({ backend, password: 'a', userKeys })
    })
  })
})

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { lockMount, mountLockPath, withMountLock } from '../../../src/capture/files/mount-lock.js'
import { RefusedError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/lib/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

describe('the mount restore lock', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let mount: string
  beforeEach(async () => {
    tmp = await makeTempDir('mount-lock')
    mount = join(tmp.path, 'pub', 'media')
    await mkdir(mount, { recursive: true })
  })
  afterEach(() => tmp.cleanup())

  it('is a file beside the mount naming its holder, removed on release', async () => {
    const lock = await lockMount(mount, silentLogger)
    const held = JSON.parse(await readFile(mountLockPath(mount), 'utf8')) as Record<string, unknown>
    expect(held.pid).toBe(process.pid)
    expect(held.host).toBe(hostname())
    expect(typeof held.started).toBe('string')
    expect(mountLockPath(mount).startsWith(join(tmp.path, 'pub', '.coffer-lock-'))).toBe(true)
    await expect(lockMount(mount, silentLogger)).rejects.toThrow(RefusedError)
    await lock.release()
    await lock.release()
    expect(existsSync(mountLockPath(mount))).toBe(false)
    await withMountLock(mount, silentLogger, async () => {
      expect(existsSync(mountLockPath(mount))).toBe(true)
    })
    expect(existsSync(mountLockPath(mount))).toBe(false)
  })

  it('lets one restore of several that find the same dead holder take its lock over', async () => {
    const gone = spawnSync('true').pid
    for (let round = 0; round < 20; round++) {
      await writeFile(
        mountLockPath(mount),
        JSON.stringify({ pid: gone, host: hostname(), started: '2026-12-05T08:00:00.000Z' }),
      )
      const tries = await Promise.allSettled([1, 2, 3, 4].map(() => lockMount(mount, silentLogger)))
      const held = tries.filter((t) => t.status === 'fulfilled')
      expect(held).toHaveLength(1)
      for (const t of tries) {
        if (t.status === 'rejected') expect((t.reason as RefusedError).code).toBe('conflict')
      }
      expect(JSON.parse(await readFile(mountLockPath(mount), 'utf8'))).toMatchObject({
        pid: process.pid,
      })
      await held[0]!.value.release()
      expect(existsSync(mountLockPath(mount))).toBe(false)
      expect(existsSync(`${mountLockPath(mount)}.takeover`)).toBe(false)
    }
  })

  it('removes a take-over guard left by a restore that died taking a lock over', async () => {
    const gone = spawnSync('true').pid
    await writeFile(
      mountLockPath(mount),
      JSON.stringify({ pid: gone, host: hostname(), started: '2026-12-05T08:00:00.000Z' }),
    )
    await writeFile(`${mountLockPath(mount)}.takeover`, '')
    const err = await lockMount(mount, silentLogger).catch((e: unknown) => e)
    expect((err as RefusedError).message).toBe(
      `Another restore into ${mount} is starting; nothing was changed.`,
    )
    const past = new Date(Date.now() - 20_000)
    await utimes(`${mountLockPath(mount)}.takeover`, past, past)
    const lock = await lockMount(mount, silentLogger)
    expect(existsSync(`${mountLockPath(mount)}.takeover`)).toBe(false)
    await lock.release()
  })

  it('waits out a lock file left empty by a writer that died, then takes it over', async () => {
    await writeFile(mountLockPath(mount), '')
    const err = await lockMount(mount, silentLogger).catch((e: unknown) => e)
    expect((err as RefusedError).code).toBe('conflict')
    expect((err as RefusedError).message).toBe(
      `Another restore into ${mount} is starting; nothing was changed.`,
    )
    const past = new Date(Date.now() - 20_000)
    await utimes(mountLockPath(mount), past, past)
    const lock = await lockMount(mount, silentLogger)
    expect(JSON.parse(await readFile(mountLockPath(mount), 'utf8'))).toMatchObject({
      pid: process.pid,
    })
    await lock.release()
  })

  it("names the other host of a lock it cannot check, and goes on unlocked where there's no parent", async () => {
    await writeFile(
      mountLockPath(mount),
      JSON.stringify({ pid: 1, host: 'elsewhere', started: '2026-12-05T08:00:00.000Z' }),
    )
    const err = await lockMount(mount, silentLogger).catch((e: unknown) => e)
    expect((err as RefusedError).message).toBe(
      `Another restore into ${mount} is running (process 1 on elsewhere, since 2026-12-05T08:00:00.000Z); nothing was changed. If none runs, remove ${mountLockPath(mount)}.`,
    )
    const lock = await lockMount(join(tmp.path, 'no', 'such', 'mount'), silentLogger)
    await lock.release()
  })
})

import { spawnSync } from 'node:child_process'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { BackendError } from '../../src/errors.js'
import {
  removeLocks,
  RepoLockedError,
  Repository,
  SnapshotWriter,
  type Backend,
  type Handle,
  type LoadOptions,
} from '../../src/repo/index.js'
import { LoadCountingBackend } from '../helpers/load-counting-backend.js'
import { useTestRepos } from '../helpers/test-repos.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const repos = useTestRepos()
let tmp: { path: string; cleanup: () => Promise<void> }
beforeAll(async () => {
  tmp = await makeTempDir('locks')
})
afterAll(() => tmp.cleanup())

let made = 0
/** A new repository of its own for each test. */
async function repo(): Promise<Repository> {
  return repos.init(repos.location(tmp.path, `locks-${++made}`), 'locks')
}

/** Writes a lock file as another process would have. */
async function foreignLock(
  r: Repository,
  l: { time: Date; exclusive: boolean; host: string; pid: number },
): Promise<void> {
  const json = JSON.stringify({
    time: l.time.toISOString(),
    exclusive: l.exclusive,
    hostname: l.host,
    username: 'other',
    pid: l.pid,
  })
  await r.store.saveUnpacked('locks', Buffer.from(json))
}

async function lockCount(r: Repository): Promise<number> {
  let n = 0
  for await (const _ of r.backend.list('locks')) n++
  return n
}

/** A backend whose loads of lock files fail as a dropped connection would. */
class LockLoadsFail extends LoadCountingBackend {
  override async load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    if (h.type === 'locks') {
      throw new BackendError(
        `Cannot load locks/${h.name} in test: the connection was reset.`,
        false,
      )
    }
    return super.load(h, opts)
  }
}

/** A PID that belonged to a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid
}

describe('repository locks', () => {
  it('lets non-exclusive locks share and refuses an exclusive one while they are held', async () => {
    const r = await repo()
    const a = await r.lock(false)
    const b = await r.lock(false)
    await expect(r.lock(true)).rejects.toBeInstanceOf(RepoLockedError)
    await a.release()
    await b.release()
    const x = await r.lock(true)
    const e = await r.lock(false).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(RepoLockedError)
    expect((e as Error).message).toMatch(
      /^The repository is already locked exclusively by PID \d+ on /,
    )
    await x.release()
    expect(await lockCount(r)).toBe(0)
  })

  it('ignores a lock older than 30 minutes, and one left on this host by a dead process', async () => {
    const r = await repo()
    await foreignLock(r, {
      time: new Date(Date.now() - 31 * 60_000),
      exclusive: true,
      host: 'elsewhere',
      pid: 1,
    })
    await foreignLock(r, { time: new Date(), exclusive: true, host: hostname(), pid: deadPid() })
    const l = await r.lock(true)
    await l.release()
    expect(await removeLocks(r.store, { all: false })).toBe(2)
    expect(await lockCount(r)).toBe(0)
  })

  it('honours a young lock of another host, whatever its PID, and names it', async () => {
    const r = await repo()
    await foreignLock(r, { time: new Date(), exclusive: false, host: 'db-host-2', pid: deadPid() })
    const e = await r.lock(true).catch((err: unknown) => err)
    expect((e as Error).message).toMatch(
      /^The repository is already locked by PID \d+ on db-host-2 \(user other\) since /,
    )
    expect(await removeLocks(r.store, { all: false })).toBe(0)
    expect(await removeLocks(r.store, { all: true })).toBe(1)
  })

  it('refreshes by writing a new lock file and removing the old one', async () => {
    const r = await repo()
    const l = await r.lock(false)
    const before = l.lockId
    await l.refresh()
    expect(l.lockId).not.toBe(before)
    expect(await lockCount(r)).toBe(1)
    expect(l.signal.aborted).toBe(false)
    await l.release()
  })

  it('refuses while a damaged lock file is there, and names it', async () => {
    const r = await repo()
    const junk = randomBytes(200)
    const name = createHash('sha256').update(junk).digest('hex')
    await r.backend.save({ type: 'locks', name }, junk)
    const e = await r.lock(false).catch((err: unknown) => err)
    expect((e as Error).message).toBe(
      `The repository has a lock file that cannot be read (locks/${name}); remove it with repo:unlock --remove-all if no other process uses the repository.`,
    )
    expect(await removeLocks(r.store, { all: true })).toBe(1)
    await (await r.lock(false)).release()
  })

  it('fails with the storage error, not a damaged lock, when a lock cannot be loaded', async () => {
    const r = await repo()
    const held = await r.lock(false)
    const flaky = await Repository.open({
      backend: new LockLoadsFail(r.backend),
      password: 'locks',
    })
    try {
      const e = await flaky.lock(false).catch((err: unknown) => err)
      expect(e).toBeInstanceOf(BackendError)
      expect((e as Error).message).toBe(
        `Cannot load locks/${held.lockId} in test: the connection was reset.`,
      )
    } finally {
      await held.release()
      await flaky.close()
    }
    expect(await lockCount(r)).toBe(0)
  })

  it('a writer reads while its lock is confirmed, and writes nothing when the second look refuses it', async () => {
    const r = await repo()
    // Another host's prune writes its exclusive lock just after our first look: our own
    // lock's save is where it slips in.
    const racing = await Repository.open({
      backend: new LockSlipsIn(r.backend, () => foreignLock(r, other)),
      password: 'locks',
    })
    const other = { time: new Date(), exclusive: true, host: 'other-host', pid: 7 }
    const saved = (racing.backend as LockSlipsIn).saved
    try {
      const w = await SnapshotWriter.start(racing, { packSize: 1024 })
      // Returned before the second look: the writer may read and chunk, not store.
      // Not awaited before the commit, which may end the tree first: its outcome is not
      // this test's subject, only that nothing was stored.
      const wrote = w
        .writeFile(
          'a.bin',
          (async function* () {
            yield randomBytes(64 * 1024)
          })(),
        )
        .catch(() => undefined)
      const e = await w.commit({ paths: ['/'], hostname: 'h' }).catch((err: unknown) => err)
      await wrote
      expect(e).toBeInstanceOf(RepoLockedError)
      expect((e as Error).message).toMatch(/already locked exclusively by PID 7 on other-host/)
      expect(saved.filter((t) => t !== 'locks')).toEqual([])
    } finally {
      await racing.close()
    }
    // Ours was removed; the other one stays.
    expect(await lockCount(r)).toBe(1)
  })
})

/** A backend that runs `slipIn` right after it saves the first lock file. */
class LockSlipsIn extends LoadCountingBackend {
  readonly saved: string[] = []
  private done = false
  constructor(
    inner: Backend,
    private readonly slipIn: () => Promise<void>,
  ) {
    super(inner)
  }
  override save: Backend['save'] = async (h, d, o) => {
    this.saved.push(h.type)
    await this.inner.save(h, d, o)
    if (h.type === 'locks' && !this.done) {
      this.done = true
      await this.slipIn()
    }
  }
}

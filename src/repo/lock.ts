import { hostname as osHostname, userInfo } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { JsonFields } from './json-fields.js'
import { BackendError, CofferError } from '../errors.js'
import { processAlive, type Logger } from '../lib/index.js'
import { isNotFound } from './backend/index.js'
import { formatGoTime, goTimeFromNs, parseGoTime, type GoTime } from './go/index.js'
import type { LockId } from './id.js'
import type { UnpackedStore } from './unpacked-store.js'

/**
 * Repository locks (design.rst, "Locks"): a lock file per process in `locks/`, exclusive
 * (prune, forget, key removal) or not (backup, restore, check). A lock is stale when it is
 * older than 30 minutes, or was made on this host by a process that no longer runs. A held
 * lock is refreshed every 5 minutes (a new file, then the old one removed), as restic does.
 */
export interface LockInfo {
  readonly id: LockId
  readonly time: GoTime
  readonly exclusive: boolean
  readonly hostname: string
  readonly username: string
  readonly pid: number
  readonly uid?: number
  readonly gid?: number
}

export const STALE_LOCK_AGE_MS = 30 * 60 * 1000
const REFRESH_INTERVAL_MS = 5 * 60 * 1000
/** restic waits this long after writing its lock before checking for others again. */
const WAIT_BEFORE_RECHECK_MS = 200

export function parseLock(json: Buffer, id: LockId): LockInfo {
  const f = new JsonFields(JSON.parse(json.toString('utf8')), 'the lock')
  const uid = f.optInt('uid')
  const gid = f.optInt('gid')
  return {
    id,
    time: parseGoTime(f.string('time')),
    exclusive: f.bool('exclusive'),
    hostname: f.optString('hostname') ?? '',
    username: f.optString('username') ?? '',
    pid: f.int('pid'),
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  }
}

function encodeLock(l: Omit<LockInfo, 'id'>): Buffer {
  // Field order of restic's Lock struct (internal/repository/lock_file.go).
  return Buffer.from(
    JSON.stringify({
      time: formatGoTime(l.time),
      exclusive: l.exclusive,
      hostname: l.hostname,
      username: l.username,
      pid: l.pid,
      ...(l.uid ? { uid: l.uid } : {}),
      ...(l.gid ? { gid: l.gid } : {}),
    }),
    'utf8',
  )
}

export interface LockOptions {
  readonly exclusive: boolean
  readonly now?: () => Date
  readonly log?: Logger
  readonly signal?: AbortSignal
}

/** Whether a lock no longer counts: too old, or its local process is gone. */
export function isStale(l: LockInfo, now: Date, thisHost = osHostname()): boolean {
  const ageMs = now.getTime() - Number(l.time.unixNs / 1_000_000n)
  if (ageMs > STALE_LOCK_AGE_MS) return true
  if (l.hostname !== thisHost) return false
  return !processAlive(l.pid)
}

export function describeLock(l: LockInfo): string {
  const since = formatGoTime(l.time)
  return `${l.exclusive ? 'exclusively ' : ''}by PID ${l.pid} on ${l.hostname || 'an unknown host'}${l.username ? ` (user ${l.username})` : ''} since ${since} (lock ${l.id.slice(0, 8)})`
}

/** Thrown when another process holds a conflicting lock. */
export class RepoLockedError extends CofferError {
  constructor(readonly holder: LockInfo) {
    super('repo_locked', `The repository is already locked ${describeLock(holder)}.`)
  }
}

/** A held lock. `signal` aborts if the lock could not be kept fresh (then stop working). */
export class RepoLock {
  private timer: NodeJS.Timeout | undefined
  private readonly lost = new AbortController()
  private released = false

  constructor(
    private readonly store: UnpackedStore,
    private id: LockId,
    private readonly info: Omit<LockInfo, 'id' | 'time'>,
    private readonly now: () => Date,
    private readonly log: Logger | undefined,
  ) {
    this.timer = setInterval(() => void this.refresh(), REFRESH_INTERVAL_MS)
    this.timer.unref()
  }

  get signal(): AbortSignal {
    return this.lost.signal
  }

  /** Settles when the second look for conflicting locks did (see startLock). */
  get confirmed(): Promise<void> {
    return this.confirmation
  }

  private confirmation: Promise<void> = Promise.resolve()

  /** Runs the second look; a failure releases the lock and aborts `signal` with it. */
  confirm(check: () => Promise<void>): void {
    this.confirmation = check().catch(async (e: unknown) => {
      this.lost.abort(e)
      await this.release().catch(() => undefined)
      throw e
    })
    this.confirmation.catch(() => undefined)
  }

  get lockId(): LockId {
    return this.id
  }

  /** Writes a fresh lock file and removes the previous one. */
  async refresh(): Promise<void> {
    if (this.released) return
    try {
      const time = goTimeFromNs(BigInt(this.now().getTime()) * 1_000_000n)
      const next = await this.store.saveUnpacked<LockId>(
        'locks',
        encodeLock({ ...this.info, time }),
      )
      const previous = this.id
      this.id = next
      await this.store.backend.remove({ type: 'locks', name: previous })
    } catch (e) {
      this.log?.warn({ err: e }, 'lock refresh failed')
      this.lost.abort(
        new CofferError('repo_locked', 'The repository lock could not be refreshed.', { cause: e }),
      )
    }
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    clearInterval(this.timer)
    await this.store.backend.remove({ type: 'locks', name: this.id })
  }
}

/** Lists the readable, non-stale locks other than `except`. */
async function otherLocks(
  store: UnpackedStore,
  now: Date,
  except?: LockId,
  log?: Logger,
): Promise<LockInfo[]> {
  const found: LockInfo[] = []
  for await (const f of store.backend.list('locks')) {
    if (f.name === except) continue
    let lock: LockInfo
    try {
      lock = parseLock(await store.loadUnpacked('locks', f.name), f.name as LockId)
    } catch (e) {
      // A lock that vanished meanwhile was released. A load that failed (the network, the
      // disk) says nothing about the lock: the operation fails with that error, as any
      // other read would. Only a lock that was read and is damaged counts as held by a
      // process we cannot see (restic does the same).
      if (isNotFound(e)) continue
      if (e instanceof BackendError) throw e
      log?.warn({ lock: f.name }, 'unreadable lock file')
      throw new CofferError(
        'repo_locked',
        `The repository has a lock file that cannot be read (locks/${f.name}); remove it with repo:unlock --remove-all if no other process uses the repository.`,
        { cause: e },
      )
    }
    if (!isStale(lock, now)) found.push(lock)
  }
  return found
}

function conflicting(locks: readonly LockInfo[], exclusive: boolean): LockInfo | undefined {
  return locks.find((l) => exclusive || l.exclusive)
}

/** Takes a lock, refusing with RepoLockedError when a conflicting live lock exists. */
export async function acquireLock(store: UnpackedStore, opts: LockOptions): Promise<RepoLock> {
  const lock = await startLock(store, opts)
  await lock.confirmed
  return lock
}

/**
 * Looks for conflicting locks and writes this one; returns it before the second look, which
 * `confirmed` settles (WAIT_BEFORE_RECHECK_MS later). Until then the caller may read, but
 * must not write to the repository. A conflict found by the second look removes the lock,
 * rejects `confirmed` and aborts `signal`, both with the RepoLockedError.
 */
export async function startLock(store: UnpackedStore, opts: LockOptions): Promise<RepoLock> {
  const now = opts.now ?? (() => new Date())
  const user = safeUserInfo()
  const info = {
    exclusive: opts.exclusive,
    hostname: osHostname(),
    username: user.username,
    pid: process.pid,
    ...(user.uid > 0 ? { uid: user.uid } : {}),
    ...(user.gid > 0 ? { gid: user.gid } : {}),
  }
  const before = conflicting(await otherLocks(store, now(), undefined, opts.log), opts.exclusive)
  if (before) throw new RepoLockedError(before)
  const time = goTimeFromNs(BigInt(now().getTime()) * 1_000_000n)
  const id = await store.saveUnpacked<LockId>('locks', encodeLock({ ...info, time }))
  const lock = new RepoLock(store, id, info, now, opts.log)
  // Another process may have written its lock between our check and our write: look again.
  lock.confirm(async () => {
    await sleep(WAIT_BEFORE_RECHECK_MS)
    opts.signal?.throwIfAborted()
    const after = conflicting(await otherLocks(store, now(), id, opts.log), opts.exclusive)
    if (after) throw new RepoLockedError(after)
  })
  return lock
}

/** Removes stale locks (or all of them); returns how many were removed. */
export async function removeLocks(
  store: UnpackedStore,
  opts: { all: boolean; now?: () => Date },
): Promise<number> {
  const now = (opts.now ?? (() => new Date()))()
  let removed = 0
  for await (const f of store.backend.list('locks')) {
    let stale = opts.all
    if (!stale) {
      try {
        stale = isStale(parseLock(await store.loadUnpacked('locks', f.name), f.name as LockId), now)
      } catch (e) {
        // Released meanwhile: nothing to remove. Damaged: kept (only --remove-all removes
        // it). Not loaded: the storage failed, and saying "0 removed" would hide it.
        if (isNotFound(e)) continue
        if (e instanceof BackendError) throw e
        stale = false
      }
    }
    if (stale) {
      await store.backend.remove({ type: 'locks', name: f.name })
      removed++
    }
  }
  return removed
}

function safeUserInfo(): { username: string; uid: number; gid: number } {
  try {
    const u = userInfo()
    return { username: u.username, uid: u.uid, gid: u.gid }
  } catch {
    return { username: '', uid: -1, gid: -1 }
  }
}

import { hostname } from 'node:os'
import { readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { RefusedError } from '../../errors.js'
import { processAlive, type Logger } from '../../lib/index.js'
import { mountDirectory } from './mount-directory.js'
import { mountHash, STAGE_PREFIX } from './stage-names.js'

/** A lock file whose writer died before writing it is taken over after this long. */
const UNWRITTEN_STALE_MS = 10_000

/** A restore's hold on one mount, from its first step (the recovery) to its last. */
export interface MountLock {
  /** Removes the lock file; idempotent. */
  release(): Promise<void>
}

/** The lock file of `mountPath`: beside it, like the whole-mount work areas. */
export const mountLockPath = (mountPath: string): string =>
  join(dirname(mountPath), `.coffer-lock-${mountHash(mountPath)}`)

interface LockRecord {
  readonly pid: number
  readonly host: string
  readonly started: string
}

/**
 * The lock file inside `mountPath`, for a mount whose parent cannot hold one: its name starts
 * with the work areas' prefix, so captures and restore plans pass over it as they pass over a
 * file-by-file stage, and it is not a stage's name (`.coffer-stage-<hex id>`), so the recovery
 * of interrupted restores leaves it alone.
 */
export const insideLockPath = (mountPath: string): string =>
  join(mountPath, `${STAGE_PREFIX.toString()}lock`)

/** Why a directory cannot hold a lock file: read-only, or not writable by this process. */
const CANNOT_WRITE = new Set(['EACCES', 'EPERM', 'EROFS'])

/**
 * Takes the restore lock of `mountPath`: `<parent>/.coffer-lock-<mount hash>`, created with
 * O_EXCL and holding the process ID, host and start time.
 *
 * Why: every restore first finishes or discards the work areas an interrupted one left beside
 * or inside the mount. Two restores of one mount at once (two `repo:restore` runs, or two
 * environments given the same directory) would each take the other's staging for a
 * leftover: one removes what the other is writing, or finishes its switch under it.
 *
 * A lock whose process is gone (same host) is taken over; so is an empty one older than 10 s
 * (its writer died between creating and writing it). A live one refuses with `conflict`,
 * before anything is changed. When the parent directory cannot hold the lock (read-only, or
 * not ours: a file-by-file restore of a mount point only needs the mount itself), the lock is
 * `<mount>/.coffer-stage-lock` instead (insideLockPath); when neither can be written, the
 * restore goes on unlocked and the log says so.
 */
export async function lockMount(mountPath: string, log: Logger): Promise<MountLock> {
  const beside = await lockAt(mountLockPath(mountPath), mountPath, log)
  if (beside !== 'unwritable') return beside
  const inside = await lockAt(insideLockPath(mountPath), mountPath, log)
  if (inside !== 'unwritable') return inside
  log.warn(
    { path: mountPath },
    'the mount restore lock cannot be taken: concurrent restores of this mount are not detected',
  )
  return released(undefined)
}

/**
 * Takes the lock file at `path` for `mountPath`; `unwritable` when its directory cannot hold
 * it. A directory that does not exist (a mount not created yet) has nothing to collide with.
 */
async function lockAt(
  path: string,
  mountPath: string,
  log: Logger,
): Promise<MountLock | 'unwritable'> {
  const mine: LockRecord = { pid: process.pid, host: hostname(), started: new Date().toISOString() }
  // A lock found stale is removed (under the take-over guard) and the creation tried again;
  // another restore may take it first, and is then the one that holds it.
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      await writeFile(path, JSON.stringify(mine), { flag: 'wx', mode: 0o600 })
      return released(path)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return released(undefined)
      if (code !== undefined && CANNOT_WRITE.has(code)) return 'unwritable'
      if (code !== 'EEXIST') throw e
    }
    const holder = await readHolder(path)
    if (holder === 'gone') continue
    if (holder === 'starting') break
    if (holder === 'stale') {
      if (await removeStale(path, mine)) {
        log.warn({ path: mountPath, lock: path }, 'a stale mount restore lock was taken over')
      }
      continue
    }
    const where = holder.host === mine.host ? '' : ` on ${holder.host}`
    throw new RefusedError(
      'conflict',
      `Another restore into ${mountPath} is running (process ${holder.pid}${where}, since ${holder.started}); nothing was changed. If none runs, remove ${path}.`,
    )
  }
  throw new RefusedError(
    'conflict',
    `Another restore into ${mountPath} is starting; nothing was changed.`,
  )
}

/**
 * Removes the stale lock at `path` if it is still stale once this process holds the take-over
 * guard (`<path>.takeover`, created with O_EXCL). Why the guard: reading a lock and removing
 * it are two steps. Two restores that found the same stale lock at once would otherwise
 * both remove "it", the second removing the lock the first had just created in its place,
 * and both go on. Under the guard the stale lock cannot change: only a guard holder removes
 * a lock that is not its own. Returns whether it removed the lock; false when another
 * restore is taking it over (the caller then finds that one's lock, or none).
 *
 * A guard is held for a few system calls; one older than 10 s was left by a restore that
 * died while taking over, and is removed.
 */
async function removeStale(path: string, mine: LockRecord): Promise<boolean> {
  const guard = `${path}.takeover`
  try {
    await writeFile(guard, JSON.stringify(mine), { flag: 'wx', mode: 0o600 })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    // Gone meanwhile: its taker finished.
    if (((await ageOf(guard)) ?? 0) > UNWRITTEN_STALE_MS) await unlinkIfThere(guard)
    return false
  }
  try {
    if ((await readHolder(path)) !== 'stale') return false
    await unlinkIfThere(path)
    return true
  } finally {
    await unlinkIfThere(guard)
  }
}

/** Milliseconds since `path` was last written; undefined when it is gone. */
const ageOf = (path: string): Promise<number | undefined> =>
  stat(path).then(
    (s) => Date.now() - s.mtimeMs,
    () => undefined,
  )

const unlinkIfThere = (path: string): Promise<void> =>
  unlink(path).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  })

/**
 * Who holds the lock at `path`: its record, `stale` (its holder is gone), `starting` (created
 * and not yet written, moments ago) or `gone` (no lock).
 */
async function readHolder(path: string): Promise<LockRecord | 'stale' | 'starting' | 'gone'> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    throw e
  }
  let record: LockRecord | undefined
  try {
    const r = JSON.parse(text) as Partial<LockRecord>
    if (typeof r.pid === 'number' && typeof r.host === 'string' && typeof r.started === 'string')
      record = { pid: r.pid, host: r.host, started: r.started }
  } catch {
    record = undefined
  }
  if (!record) {
    // Gone meanwhile: taken over, or released; judged stale, it is looked at again.
    return ((await ageOf(path)) ?? Infinity) > UNWRITTEN_STALE_MS ? 'stale' : 'starting'
  }
  if (record.host === hostname() && !processAlive(record.pid)) return 'stale'
  return record
}

function released(path: string | undefined): MountLock {
  let done = false
  return {
    release: async () => {
      if (done || !path) return
      done = true
      await unlinkIfThere(path)
    },
  }
}

/**
 * Runs `fn` under the mount's restore lock: for a cleanup that finishes or discards an
 * interrupted restore's work areas (`recoverStagedRestore`, `commitStagedRestore`) from
 * outside a restore. Refuses with `conflict` while a restore of the mount runs.
 */
export async function withMountLock<T>(
  mountPath: string,
  log: Logger,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await lockMount(await mountDirectory(mountPath, 'restore_failed'), log)
  try {
    return await fn()
  } finally {
    await lock.release()
  }
}

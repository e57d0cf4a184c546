import { lstatSync, renameSync, unlinkSync, type BigIntStats } from 'node:fs'
import { link, lstat, mkdir, rm, statfs, symlink } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import { silentLogger, type Logger } from '../../lib/index.js'
import type { ExtendedAttribute, Node, RepoReader, TreeId, TreePath } from '../../repo/index.js'
import { makeSpecial, setEntryMeta } from './entry-writer.js'
import { FileQueue, type QueuedFile } from './file-queue.js'
import { isSafeName } from './safe-name.js'
import { writeXattrs } from './xattr-tool.js'

export interface FileRestoreOptions {
  /** Restore only these paths (and what is below them), relative to the restored tree. */
  readonly include?: readonly TreePath[]
  /** Set owners from the snapshot; by default only when running as root. */
  readonly owners?: boolean
  readonly signal?: AbortSignal
  readonly log?: Logger
  readonly onProgress?: (p: FileRestoreStats) => void
}

export interface FileRestoreStats {
  files: number
  dirs: number
  links: number
  bytes: number
  /** Entries refused because their names or places would escape the target. */
  readonly refused: string[]
}

const slash = Buffer.from('/')
const join = (dir: Buffer, name: Uint8Array): Buffer => Buffer.concat([dir, slash, name])
const show = (p: Buffer): string => p.toString('utf8')

type Inclusion = 'all' | 'some' | 'none'

/** Whether `path` is included, is an ancestor of an included path, or is outside all. */
function inclusion(path: TreePath, include: readonly TreePath[] | undefined): Inclusion {
  if (!include || include.length === 0) return 'all'
  let best: Inclusion = 'none'
  for (const inc of include) {
    const n = Math.min(inc.length, path.length)
    let same = true
    for (let i = 0; i < n && same; i++) same = Buffer.compare(inc[i]!, path[i]!) === 0
    if (!same) continue
    if (path.length >= inc.length) return 'all'
    best = 'some'
  }
  return best
}

/**
 * Restores a tree from a snapshot into `target` as `restic restore` does: directories,
 * files with their content, symlinks, hard links (re-linked by inode and device), FIFOs and
 * device nodes, then modes, owners (as root) and times, directories last so that writing
 * into them does not change their times, and extended attributes (one `setfattr` run). As restic, it walks the tree first, then reads
 * the files' content pack by pack, each pack once (FileQueue); a file is written under a
 * temporary name beside its path and renamed into place once complete, so a failed restore
 * leaves no truncated or wrong file (and removes its temporary ones).
 *
 * Safety: a name that is empty, `.`, `..` or contains `/` is refused; every directory on the
 * way is created by this function or checked to be a real directory (never a symlink), and
 * files are opened with O_NOFOLLOW, so nothing is ever written outside `target`, whatever a
 * (possibly hostile) snapshot holds.
 */
export async function restoreFiles(
  reader: RepoReader,
  tree: TreeId,
  target: string,
  opts: FileRestoreOptions = {},
): Promise<FileRestoreStats> {
  const log = opts.log ?? silentLogger
  const signal = opts.signal
  const owners = opts.owners ?? process.getuid?.() === 0
  const stats: FileRestoreStats = { files: 0, dirs: 0, links: 0, bytes: 0, refused: [] }
  /** Files to fill, in walk order; each is written under a temporary name beside it. */
  const files: FileJob[] = []
  const queue = new FileQueue<FileJob>(reader, stats, (job) => place(job), signal)
  /** First paths of hard-linked files, by device and inode. */
  const firstLinks = new Map<string, FileJob>()
  const links: { first: FileJob; p: Buffer }[] = []
  /** Directories whose metadata is set last, children before parents. */
  const dirs: { p: Buffer; node: Node }[] = []
  let tmpCounter = 0
  /** Bytes the files' content will add to the target's file system (see `spaceNeeded`). */
  let bytesNeeded = 0

  /** Makes directory `p`; says whether it is new (so holds nothing to replace). */
  const ensureDir = async (p: Buffer): Promise<boolean> => {
    try {
      await mkdir(p, { mode: 0o700 })
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(e, p)
      const st = await lstat(p)
      if (st.isDirectory()) return false
      // Something else is in the way (a file, or a symlink that could lead outside): replace it.
      await rm(p, { force: true })
      await mkdir(p, { mode: 0o700 })
      return true
    }
  }

  /** Extended attributes of what was restored, set in one batch at the end (xattr-tool.ts). */
  const xattrs: { path: Buffer; attrs: readonly ExtendedAttribute[] }[] = []
  /** Owner, mode and times now; the extended attributes of the entry's final path `at`, later. */
  const setMeta = (p: Buffer, node: Node, at: Buffer = p): void => {
    setEntryMeta(p, node, owners, (e) => log.warn({ path: show(p), err: e }, 'cannot set owner'))
    if (node.extendedAttributes?.length) xattrs.push({ path: at, attrs: node.extendedAttributes })
  }

  // Synchronous look-up, unlink and rename, as the metadata calls (see setEntryMeta).
  const removeExisting = async (p: Buffer): Promise<BigIntStats | undefined> => {
    const st = lstatSync(p, { bigint: true, throwIfNoEntry: false })
    if (st?.isDirectory()) await rm(p, { recursive: true, force: true })
    else if (st) unlinkSync(p)
    return st
  }

  const restoreNode = async (
    dir: Buffer,
    path: TreePath,
    node: Node,
    freshDir: boolean,
  ): Promise<void> => {
    const p = join(dir, node.name)
    switch (node.type) {
      case 'dir':
        return restoreDir(p, path, node.subtree, node)
      case 'file': {
        const key =
          node.links && node.links > 1 && node.inode
            ? `${node.deviceId ?? 0n}:${node.inode}`
            : undefined
        const first = key ? firstLinks.get(key) : undefined
        if (first) {
          // Linked once the first path's content is in place.
          links.push({ first, p })
          return
        }
        // A short name of its own: the file's name may already be as long as names can be.
        const tmp = join(
          dir,
          Buffer.from(`.coffer-tmp-${process.pid}-${(tmpCounter++).toString(36)}`),
        )
        const job: FileJob = { node, p, path: tmp, placed: false }
        bytesNeeded += spaceNeeded(node, freshDir ? undefined : p)
        files.push(job)
        queue.add(job)
        if (key) firstLinks.set(key, job)
        return
      }
      case 'symlink':
        await removeExisting(p)
        await symlink(Buffer.from(node.linkTarget ?? Buffer.alloc(0)), p)
        setMeta(p, node)
        return
      case 'fifo':
      case 'dev':
      case 'chardev': {
        await removeExisting(p)
        // The name as raw bytes (makeSpecial): a name that is not UTF-8 is made as it is.
        const made = await makeSpecial(p, node).then(
          () => true,
          (e: unknown) => {
            log.warn({ path: show(p), type: node.type, err: e }, 'cannot create special file')
            return false
          },
        )
        if (made) setMeta(p, node)
        return
      }
      case 'socket':
      case 'irregular':
        return
    }
  }

  const restoreDir = async (
    p: Buffer,
    path: TreePath,
    subtree: TreeId | undefined,
    node: Node | undefined,
  ): Promise<void> => {
    signal?.throwIfAborted()
    const fresh = await ensureDir(p)
    const nodes = subtree ? await reader.loadTree(subtree, signal) : []
    for (const child of nodes) {
      const childPath = [...path, child.name]
      if (!isSafeName(child.name)) {
        stats.refused.push(`${show(p)}/${JSON.stringify(Buffer.from(child.name).toString('utf8'))}`)
        log.error({ dir: show(p) }, 'refused an unsafe name in the snapshot')
        continue
      }
      const inc = inclusion(childPath, opts.include)
      if (inc === 'none') continue
      if (inc === 'some' && child.type !== 'dir') continue
      await restoreNode(p, childPath, child, fresh)
    }
    if (node) dirs.push({ p, node })
  }

  /** Puts a complete file in place: length checked, metadata set, renamed over its path. */
  const place = async (job: FileJob): Promise<void> => {
    setMeta(job.path, job.node, job.p)
    await removeExisting(job.p)
    renameSync(job.path, job.p)
    job.placed = true
    stats.files++
    if (stats.files % PROGRESS_EVERY === 0) opts.onProgress?.(stats)
  }

  const root = Buffer.from(target)
  await mkdir(root, { recursive: true }).catch((e: unknown) => {
    const code = errnoCode(e)
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw new CofferError('restore_failed', `${target} is not a directory; nothing was changed.`)
    throw e
  })
  try {
    await restoreDir(root, [], tree, undefined)
    await checkSpace(target, bytesNeeded)
    await queue.writeAll()
    for (const { first, p } of links) {
      await removeExisting(p)
      await link(first.p, p)
      stats.links++
    }
    for (const { p, node } of dirs) {
      setMeta(p, node)
      stats.dirs++
    }
    // Setting attributes changes no times, only ctime: after the directories' metadata.
    await writeXattrs(xattrs, signal)
  } catch (e) {
    const code = errnoCode(e) ?? (e instanceof Error ? errnoCode(e.cause) : undefined)
    if (code === 'ENOSPC' || code === 'EDQUOT')
      throw new CofferError(
        'no_space',
        `The restore into ${target} ran out of space on the device: the files it had not completed were removed, those completed stay.`,
        { cause: e },
      )
    const at: unknown = (e as { path?: unknown }).path
    const where = Buffer.isBuffer(at) ? at.toString() : typeof at === 'string' ? at : undefined
    const reason = code ? REFUSALS[code] : undefined
    if (reason && where !== undefined)
      throw new CofferError(
        'restore_failed',
        `The restore into ${target} stopped at ${where}: ${reason}. The files it had not completed were removed, those completed stay.`,
        { cause: e },
      )
    throw e
  } finally {
    // A failed restore leaves no partial file behind (the paths it had not reached are as
    // they were).
    for (const job of files) if (!job.placed) await rm(job.path, { force: true })
  }
  opts.onProgress?.(stats)
  return stats
}

/** Progress is reported every this many files placed (and at the end). */
const PROGRESS_EVERY = 64

interface FileJob extends QueuedFile {
  /** Its path; `path` is the temporary name it is written under until complete. */
  readonly p: Buffer
  placed: boolean
}

/** What the file system's refusals mean to someone restoring, by error code. */
const REFUSALS: Readonly<Record<string, string>> = {
  EPERM:
    'the file system refuses to replace or remove it (immutable or append-only, chattr +i or +a?)',
  EACCES: 'permission denied',
  EROFS: 'the file system is read-only',
}

/** Files are counted in whole blocks of this size (ext4's and XFS's default). */
const BLOCK = 4096

/**
 * What writing `node` adds to the file system: its size in whole blocks, less the blocks of
 * the file it replaces at `existing` (removed once the new one is complete; a rough
 * measure, as writes of several files overlap and the old one goes only then).
 */
function spaceNeeded(node: Node, existing: Buffer | undefined): number {
  const size = Math.ceil((node.size ?? 0) / BLOCK) * BLOCK
  const st = existing ? lstatSync(existing, { throwIfNoEntry: false }) : undefined
  const old = st?.isFile() ? st.blocks * 512 : 0
  return Math.max(0, size - old)
}

/**
 * Refuses a restore whose files cannot fit, before any file's content is written (the walk
 * has made the directories, links and special files by then).
 */
async function checkSpace(target: string, need: number): Promise<void> {
  const fs = await statfs(target)
  const free = Number(fs.bavail) * Number(fs.bsize)
  if (need > free)
    throw new CofferError(
      'no_space',
      `Not enough free space to restore into ${target}: ${need} bytes needed, ${free} free; no file was written (the snapshot's directories and links were made).`,
    )
}

const errnoCode = (e: unknown): string | undefined =>
  e && typeof e === 'object' ? (e as NodeJS.ErrnoException).code : undefined

function writeError(e: unknown, p: Buffer): CofferError {
  return new CofferError(
    'restore_failed',
    `Cannot write ${show(p)}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`,
    { cause: e },
  )
}

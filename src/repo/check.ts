import { createHash } from 'node:crypto'
import { messageOf } from '../errors.js'
import { forEachLimit } from '../lib/index.js'
import { handleName, LocalBackend } from './backend/index.js'
import { BlobLoader } from './blob-loader.js'
import { open, SEAL_OVERHEAD } from './crypto/index.js'
import type { BlobId, IndexId, PackId, SnapshotId } from './id.js'
import { MasterIndex, parseIndexFile, type IndexFile } from './index/index.js'
import { decodePackHeader, type BlobType, type PackEntry } from './pack/index.js'
import type { Repository } from './repository.js'
import type { PackVerified } from './workers/crypto-messages.js'
import { parseSnapshot } from './snapshot.js'
import { decodeTree, nodeNameText, type TreeId } from './tree/index.js'

export interface CheckFinding {
  readonly severity: 'error' | 'info'
  /** The repository file concerned (`data/ab/ab12…`, `index/…`), when there is one. */
  readonly file?: string
  readonly message: string
}

export interface CheckResult {
  readonly findings: readonly CheckFinding[]
  readonly errors: number
  readonly snapshots: number
  readonly packs: number
  readonly packsRead: number
  readonly blobs: number
}

export interface CheckOptions {
  /** Read and verify every pack's content, not only the structure. */
  readonly readData?: boolean
  readonly signal?: AbortSignal
  readonly progress?: (p: { phase: string; done: number; total: number }) => void
}

/** Size a pack must have given its index entries (blobs + sealed header + length field). */
function expectedPackSize(entries: readonly PackEntry[]): number {
  let size = SEAL_OVERHEAD + 4
  for (const e of entries) size += e.length + (e.uncompressedLength === undefined ? 37 : 41)
  return size
}

/**
 * Checks a repository as `restic check` does and collects every finding rather than
 * stopping at the first: key files match their names; index files decrypt and parse; every
 * indexed pack exists with the size its entries imply; every snapshot decrypts, and every
 * tree reachable from it loads and names only blobs that the index has. With `readData`,
 * every pack is read whole: its name must be its SHA-256, its header must match the index,
 * and every blob must decrypt to content matching its ID.
 */
export async function checkRepository(
  repo: Repository,
  opts: CheckOptions = {},
): Promise<CheckResult> {
  const findings: CheckFinding[] = []
  const error = (message: string, file?: string): void => {
    findings.push({ severity: 'error', message, ...(file ? { file } : {}) })
  }
  const info = (message: string): void => {
    findings.push({ severity: 'info', message })
  }
  const { backend, store } = repo
  const signal = opts.signal

  for await (const f of backend.list('keys', { signal })) {
    const h = { type: 'keys' as const, name: f.name }
    const bytes = await backend.load(h, { signal })
    if (createHash('sha256').update(bytes).digest('hex') !== f.name) {
      error('key file content does not match its name (SHA-256)', handleName(h))
    }
  }

  // Snapshots are listed before the index is read (design.rst, "Read and Write Ordering").
  const snapshotIds: SnapshotId[] = []
  for await (const f of backend.list('snapshots', { signal }))
    snapshotIds.push(f.name as SnapshotId)

  const indexIds: IndexId[] = []
  for await (const f of backend.list('index', { signal })) indexIds.push(f.name as IndexId)
  const indexFiles = new Map<IndexId, IndexFile>()
  await forEachLimit(
    indexIds,
    backend.connections,
    async (id, sig) => {
      try {
        indexFiles.set(id, parseIndexFile(await store.loadUnpacked('index', id, sig)))
      } catch (e) {
        if (sig.aborted) throw e
        error(messageOf(e), `index/${id}`)
      }
    },
    signal,
  )
  const superseded = new Set<IndexId>()
  for (const f of indexFiles.values()) for (const s of f.supersedes) superseded.add(s)

  const indexedPacks = new Map<PackId, readonly PackEntry[]>()
  const blobs: Record<BlobType, Set<BlobId>> = { data: new Set(), tree: new Set() }
  for (const [id, f] of indexFiles) {
    if (superseded.has(id)) continue
    for (const p of f.packs) {
      const known = indexedPacks.get(p.id)
      if (!known) indexedPacks.set(p.id, p.blobs)
      for (const b of p.blobs) blobs[b.type].add(b.id)
    }
  }

  const stored = new Map<PackId, number>()
  for await (const f of backend.list('data', { signal })) stored.set(f.name as PackId, f.size)
  for (const [packId, entries] of indexedPacks) {
    const file = handleName({ type: 'data', name: packId })
    const size = stored.get(packId)
    if (size === undefined) error('pack is named in the index but does not exist', file)
    else if (size !== expectedPackSize(entries)) {
      error(
        `pack has ${size} bytes but its index entries describe ${expectedPackSize(entries)}`,
        file,
      )
    }
  }
  const unindexed = [...stored.keys()].filter((p) => !indexedPacks.has(p))
  if (unindexed.length > 0)
    info(`${unindexed.length} pack(s) not referenced in any index (prune removes them)`)

  // Every snapshot, and every tree reachable from one.
  const usedTrees = new Set<TreeId>()
  const usedData = new Set<BlobId>()
  const treeQueue: { id: TreeId; where: string }[] = []
  let snapshots = 0
  for (const id of snapshotIds) {
    try {
      const s = parseSnapshot(await store.loadUnpacked('snapshots', id, signal), id)
      snapshots++
      treeQueue.push({ id: s.tree, where: `snapshot ${id.slice(0, 8)}` })
    } catch (e) {
      if (signal?.aborted) throw e
      error(messageOf(e), `snapshots/${id}`)
    }
  }
  const index = new MasterIndex()
  for (const [p, e] of indexedPacks) index.addPack(p, e)
  const loader = new BlobLoader(repo, index)
  let treesDone = 0
  while (treeQueue.length > 0) {
    const batch = treeQueue.splice(0, treeQueue.length)
    await forEachLimit(
      batch,
      backend.connections,
      async ({ id, where }, sig) => {
        if (usedTrees.has(id)) return
        usedTrees.add(id)
        if (!blobs.tree.has(id)) {
          error(`tree ${id.slice(0, 8)} (in ${where}) is not in the index`)
          return
        }
        let nodes
        try {
          nodes = decodeTree(await loader.load('tree', id, sig))
        } catch (e) {
          if (sig.aborted) throw e
          error(`tree ${id.slice(0, 8)} (in ${where}) cannot be read: ${messageOf(e)}`)
          return
        }
        for (const n of nodes) {
          if (n.type === 'dir') {
            if (!n.subtree)
              error(`directory "${nodeNameText(n)}" in tree ${id.slice(0, 8)} has no subtree`)
            else treeQueue.push({ id: n.subtree, where: `tree ${id.slice(0, 8)}` })
          } else if (n.type === 'file') {
            for (const c of n.content ?? []) {
              usedData.add(c)
              if (!blobs.data.has(c)) {
                error(
                  `file "${nodeNameText(n)}" in tree ${id.slice(0, 8)} needs data blob ${c.slice(0, 8)}, which is not in the index`,
                )
              }
            }
          }
        }
        opts.progress?.({ phase: 'trees', done: ++treesDone, total: treesDone + treeQueue.length })
      },
      signal,
    )
  }
  const unusedBlobs =
    [...blobs.data].filter((b) => !usedData.has(b)).length +
    [...blobs.tree].filter((t) => !usedTrees.has(t)).length
  if (unusedBlobs > 0) info(`${unusedBlobs} blob(s) not used by any snapshot (prune removes them)`)

  let packsRead = 0
  if (opts.readData) {
    const packs = [...stored]
    // Local packs: one per crypto worker, which reads and verifies it (bound by the CPU).
    // Remote ones: as many as the backend has connections, so that downloads overlap.
    const packsAtOnce =
      backend instanceof LocalBackend ? Math.min(2, backend.connections) : backend.connections
    const buffers = new PackBuffers(packsAtOnce)
    await forEachLimit(
      packs,
      packsAtOnce,
      async ([packId, size], sig) => {
        const h = { type: 'data' as const, name: packId }
        const file = handleName(h)
        for (const m of await verifyPack(
          repo,
          packId,
          size,
          indexedPacks.get(packId),
          buffers,
          sig,
        ))
          error(m, file)
        packsRead++
        opts.progress?.({ phase: 'read-data', done: packsRead, total: packs.length })
      },
      signal,
    )
  }

  return {
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    snapshots,
    packs: stored.size,
    packsRead,
    blobs: blobs.data.size + blobs.tree.size,
  }
}

/**
 * Reads a whole pack and returns what is wrong with it (nothing when it is sound). The
 * header is read here; the file's hash and every blob are verified on a crypto worker, so
 * a check uses every core. A local pack that looks sound is read by the worker itself
 * (`verifyLocalPack`); anything else, or anything amiss, is read here whole.
 */
async function verifyPack(
  repo: Repository,
  packId: PackId,
  size: number,
  indexed: readonly PackEntry[] | undefined,
  buffers: PackBuffers,
  signal: AbortSignal,
): Promise<string[]> {
  const backend = repo.backend
  if (backend instanceof LocalBackend) {
    const file = backend.filename({ type: 'data', name: packId })
    const found = await verifyLocalPack(repo, file, packId, size, indexed, signal)
    if (found) return found
  }
  const problems: string[] = []
  const buf = await repo.backend.load(
    { type: 'data', name: packId },
    { signal, into: buffers.take },
  )
  if (buf.length !== size) problems.push(`read ${buf.length} bytes, listed with ${size}`)
  const unreadable = (problem: string): string[] => {
    const sha256 = createHash('sha256').update(buf).digest('hex')
    if (sha256 !== packId) problems.push(NOT_ITS_NAME)
    return [...problems, problem]
  }
  if (buf.length < 4 + SEAL_OVERHEAD) return unreadable('file is too short to be a pack')
  const headerLen = buf.readUInt32LE(buf.length - 4)
  if (headerLen < SEAL_OVERHEAD || headerLen > buf.length - 4)
    return unreadable(`header length ${headerLen} does not fit the file`)
  const header = open(repo.key, buf.subarray(buf.length - 4 - headerLen, buf.length - 4))
  if (!header) return unreadable('header fails authentication (MAC)')
  let entries: PackEntry[]
  try {
    entries = decodePackHeader(header, repo.version >= 2)
  } catch (e) {
    return unreadable(`header does not parse: ${messageOf(e)}`)
  }
  const inside = blobsInside(entries, buf.length - 4 - headerLen)
  const verified = await repo.pool.verifyPack(
    { sealed: buf },
    inside.map(sliceOf),
    buffers.lent(buf),
  )
  buffers.give(verified.buffer)
  if ('unread' in verified) throw new Error(verified.unread)
  return [...problems, ...judged(packId, entries, inside, verified, indexed)]
}

const NOT_ITS_NAME = 'content does not match its name (SHA-256)'

/**
 * Buffers for the packs a check downloads, each reused once a worker has verified its pack
 * and sent it back: fresh memory costs a page fault per 4 KiB on these machines, and filling
 * new buffers took 0.7 s of the main thread's time in an S3 check of 270 MB, 0.15 s with
 * buffers reused (with five packs at once as well: 2.66-2.97 s where it took 2.79-3.46 s;
 * restic 1.98-2.25 s).
 */
class PackBuffers {
  private readonly spare: ArrayBuffer[] = []
  private readonly given = new WeakSet<ArrayBuffer>()

  /** At most `keep` buffers are kept for reuse (the largest). */
  constructor(private readonly keep: number) {}

  /** A buffer of `length` bytes over a whole ArrayBuffer of its own (LoadOptions.into). */
  readonly take = (length: number): Buffer => {
    const i = this.spare.findIndex((b) => b.byteLength >= length)
    // Rounded up to a MiB, so that one pack's buffer fits the next, a little smaller one.
    const ab =
      i >= 0
        ? this.spare.splice(i, 1)[0]!
        : Buffer.allocUnsafeSlow(Math.ceil(length / MIB) * MIB).buffer
    this.given.add(ab)
    return Buffer.from(ab, 0, length)
  }

  /** Whether `buf` came from take (a backend may ignore `into` and return its own). */
  lent(buf: Buffer): boolean {
    return this.given.has(buf.buffer as ArrayBuffer)
  }

  give(ab: ArrayBuffer | undefined): void {
    if (!ab || ab.byteLength === 0) return
    this.spare.push(ab)
    this.spare.sort((a, b) => a.byteLength - b.byteLength)
    if (this.spare.length > this.keep) this.spare.shift()
  }
}

const MIB = 1024 * 1024

/** Bytes read from a local pack's end for its header: most headers are a few KiB. */
const TAIL_BYTES = 256 * 1024

/**
 * A local pack whose header reads and opens from its last bytes: a worker reads the file
 * itself (into a buffer it keeps) and verifies it, so the pack's bytes neither pass through
 * this thread nor need a buffer each. Undefined when anything is off (a short file, a header
 * that does not open or parse, a read that fails): the caller then reads the pack whole and
 * says what is wrong.
 */
async function verifyLocalPack(
  repo: Repository,
  file: string,
  packId: PackId,
  size: number,
  indexed: readonly PackEntry[] | undefined,
  signal: AbortSignal,
): Promise<string[] | undefined> {
  if (size < 4 + SEAL_OVERHEAD) return undefined
  const tailLength = Math.min(size, TAIL_BYTES)
  let tail: Buffer
  try {
    tail = await repo.backend.load(
      { type: 'data', name: packId },
      { offset: size - tailLength, length: tailLength, signal },
    )
  } catch {
    signal.throwIfAborted()
    return undefined
  }
  if (tail.length !== tailLength) return undefined
  const headerLen = tail.readUInt32LE(tail.length - 4)
  if (headerLen < SEAL_OVERHEAD || headerLen > tail.length - 4) return undefined
  const header = open(repo.key, tail.subarray(tail.length - 4 - headerLen, tail.length - 4))
  if (!header) return undefined
  let entries: PackEntry[]
  try {
    entries = decodePackHeader(header, repo.version >= 2)
  } catch {
    return undefined
  }
  const inside = blobsInside(entries, size - 4 - headerLen)
  const verified = await repo.pool.verifyPack(
    { file, offset: 0, length: size },
    inside.map(sliceOf),
  )
  if ('unread' in verified) return undefined
  return judged(packId, entries, inside, verified, indexed)
}

/** The entries whose blobs lie before the header. */
function blobsInside(entries: readonly PackEntry[], blobsEnd: number): PackEntry[] {
  return entries.filter((e) => e.offset + e.length <= blobsEnd)
}

function sliceOf(e: PackEntry): {
  offset: number
  length: number
  id: string
  uncompressedLength: number | undefined
} {
  return { offset: e.offset, length: e.length, id: e.id, uncompressedLength: e.uncompressedLength }
}

/** What a worker's verification of a pack and its index entries say is wrong with it. */
function judged(
  packId: PackId,
  entries: readonly PackEntry[],
  inside: readonly PackEntry[],
  verified: Exclude<PackVerified, { readonly unread: string }>,
  indexed: readonly PackEntry[] | undefined,
): string[] {
  const problems: string[] = []
  if (verified.sha256 !== packId) problems.push(NOT_ITS_NAME)
  const damage = new Map(inside.map((e, i) => [e, verified.results[i]]))
  for (const e of entries) {
    const d = damage.get(e)
    if (d === undefined)
      problems.push(`${e.type} blob ${e.id.slice(0, 8)} extends past the blobs' end`)
    else if (d !== null) problems.push(`${e.type} blob ${e.id.slice(0, 8)} ${d}`)
  }
  if (indexed) {
    const key = (e: PackEntry): string =>
      `${e.type}:${e.id}:${e.offset}:${e.length}:${e.uncompressedLength ?? ''}`
    const inHeader = new Set(entries.map(key))
    for (const e of indexed) {
      if (!inHeader.has(key(e)))
        problems.push(
          `index entry for ${e.type} blob ${e.id.slice(0, 8)} does not match the pack header`,
        )
    }
  }
  return problems
}

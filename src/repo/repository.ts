import { createHash, randomBytes } from 'node:crypto'
import { hostname as osHostname, userInfo } from 'node:os'
import { CofferError, IntegrityError } from '../errors.js'
import { forEachLimit, silentLogger, type Logger } from '../lib/index.js'
import { CONFIG_HANDLE, handleName, isNotFound, type Backend } from './backend/index.js'
import {
  createKeyFile,
  DEFAULT_KDF,
  MasterKey,
  open,
  openKeyFile,
  seal,
  type KdfParams,
  type UserKeyCache,
} from './crypto/index.js'
import { formatPolynomial, randomPolynomial } from './chunker/index.js'
import { encodeConfig, parseConfig, type RepoConfig } from './config.js'
import type { TreeCache } from './tree-cache.js'
import { formatGoTime, goTimeNow } from './go/index.js'
import { hashId, type IndexId, type KeyId, type SnapshotId } from './id.js'
import { MasterIndex, parseIndexFile } from './index/index.js'
import { acquireLock, startLock, type RepoLock } from './lock.js'
import { parseSnapshot, type StoredSnapshot } from './snapshot.js'
import { UnpackedStore } from './unpacked-store.js'
import type { RepoVersion } from './unpacked.js'
import { CryptoPool } from './workers/crypto-pool.js'

/** restic tries at most this many key files before giving up on a password. */
const MAX_KEYS_TRIED = 20

export interface OpenOptions {
  readonly backend: Backend
  readonly password: string
  readonly log?: Logger
  readonly signal?: AbortSignal
  /** Keeps the password's derived key for the next opens (a long-running process's). */
  readonly userKeys?: UserKeyCache
  /** Keeps decoded trees for the next opens (a long-running process's; tree-cache.ts). */
  readonly trees?: TreeCache
}

export interface InitOptions extends OpenOptions {
  /** Repository format version to create: 2 (default, compressed) or 1. */
  readonly version?: RepoVersion
  readonly kdf?: KdfParams
  /** Chunker polynomial (hex); random when absent, as restic chooses. */
  readonly chunkerPolynomial?: string
}

/**
 * An open repository: backend, master key, config, and (once loaded) the index. Reading and
 * writing are built on it (RepoReader, SnapshotWriter); it holds no lock by itself.
 */
export class Repository {
  readonly store: UnpackedStore
  private indexLoaded: Promise<MasterIndex> | undefined
  private workers: CryptoPool | undefined

  private constructor(
    readonly backend: Backend,
    readonly key: MasterKey,
    readonly keyId: KeyId,
    readonly config: RepoConfig,
    readonly log: Logger,
    /** Trees decoded by earlier opens, shared with later ones (RepoReader uses it). */
    readonly sharedTrees?: TreeCache,
  ) {
    this.store = new UnpackedStore(backend, key, config.version)
  }

  /** Opens the repository at `backend` with `password`. */
  static async open(opts: OpenOptions): Promise<Repository> {
    const { backend, signal } = opts
    const log = opts.log ?? silentLogger
    const rawConfig = await backend.load(CONFIG_HANDLE, { signal }).catch((e: unknown) => {
      if (isNotFound(e)) {
        throw new CofferError('repo_not_found', `There is no repository at ${backend.location}.`, {
          cause: e,
        })
      }
      throw e
    })
    const { key, keyId } = await findKey(backend, opts.password, log, signal, opts.userKeys)
    const plain = open(key, rawConfig)
    if (!plain) throw new IntegrityError('config', 'it fails authentication (MAC)')
    let config: RepoConfig
    try {
      config = parseConfig(plain)
    } catch (e) {
      throw new IntegrityError('config', (e as Error).message, { cause: e })
    }
    return new Repository(backend, key, keyId, config, log, opts.trees)
  }

  /** Creates a new repository at `backend` (which must not hold one) and opens it. */
  static async init(opts: InitOptions): Promise<Repository> {
    const { backend, signal } = opts
    await backend.create({ signal })
    const key = MasterKey.random()
    const keyId = await addKeyFile(backend, key, opts.password, opts.kdf ?? DEFAULT_KDF, signal)
    const config: RepoConfig = {
      version: opts.version ?? 2,
      id: randomBytes(32).toString('hex'),
      chunkerPolynomial: opts.chunkerPolynomial ?? formatPolynomial(randomPolynomial()),
    }
    const repo = new Repository(backend, key, keyId, config, opts.log ?? silentLogger, opts.trees)
    // The config is sealed but never compressed: it says whether compression is allowed.
    await backend.save(CONFIG_HANDLE, seal(key, encodeConfig(config)), { signal })
    return repo
  }

  get version(): RepoVersion {
    return this.config.version
  }

  /**
   * Worker threads that seal and open blobs (compression, encryption, MAC, hashing), made on
   * first use. Small operations may run inline; bulk data goes through here.
   */
  get pool(): CryptoPool {
    this.workers ??= new CryptoPool(this.key)
    return this.workers
  }

  /** Stops the worker threads. The repository stays usable (a new pool starts on demand). */
  async close(): Promise<void> {
    const w = this.workers
    this.workers = undefined
    await w?.close()
  }

  /** Loads (once) and returns the index of every blob. */
  index(signal?: AbortSignal): Promise<MasterIndex> {
    this.indexLoaded ??= loadIndex(this.store, this.log, signal).catch((e: unknown) => {
      this.indexLoaded = undefined
      throw e
    })
    return this.indexLoaded
  }

  /** Forgets the loaded index (after another process or a prune changed it). */
  invalidateIndex(): void {
    this.indexLoaded = undefined
  }

  lock(
    exclusive: boolean,
    opts: { now?: () => Date; signal?: AbortSignal } = {},
  ): Promise<RepoLock> {
    return acquireLock(this.store, { exclusive, log: this.log, ...opts })
  }

  /**
   * A lock returned before its second look for conflicting locks (200 ms): read meanwhile,
   * write only once `confirmed` has resolved (see startLock).
   */
  startLock(
    exclusive: boolean,
    opts: { now?: () => Date; signal?: AbortSignal } = {},
  ): Promise<RepoLock> {
    return startLock(this.store, { exclusive, log: this.log, ...opts })
  }

  /** All snapshots, oldest first. A damaged snapshot file fails the listing, naming it. */
  async listSnapshots(signal?: AbortSignal): Promise<StoredSnapshot[]> {
    const ids: SnapshotId[] = []
    for await (const f of this.backend.list('snapshots', { signal })) ids.push(f.name as SnapshotId)
    const snaps: StoredSnapshot[] = []
    await forEachLimit(
      ids,
      this.backend.connections,
      async (id, sig) => {
        snaps.push(await this.loadSnapshot(id, sig))
      },
      signal,
    )
    return snaps.sort((a, b) =>
      a.time.unixNs < b.time.unixNs ? -1 : a.time.unixNs > b.time.unixNs ? 1 : 0,
    )
  }

  async loadSnapshot(id: SnapshotId, signal?: AbortSignal): Promise<StoredSnapshot> {
    const json = await this.store.loadUnpacked('snapshots', id, signal)
    try {
      return parseSnapshot(json, id)
    } catch (e) {
      throw new IntegrityError(`snapshots/${id}`, (e as Error).message, { cause: e })
    }
  }
}

/** Tries the password on the key files; distinguishes a wrong password from a damaged key. */
async function findKey(
  backend: Backend,
  password: string,
  log: Logger,
  signal?: AbortSignal,
  userKeys?: UserKeyCache,
): Promise<{ key: MasterKey; keyId: KeyId }> {
  const damaged: string[] = []
  let tried = 0
  for await (const f of backend.list('keys', { signal })) {
    if (tried++ >= MAX_KEYS_TRIED) break
    const h = { type: 'keys' as const, name: f.name }
    const bytes = await backend.load(h, { signal })
    if (createHash('sha256').update(bytes).digest('hex') !== f.name) {
      damaged.push(handleName(h))
      log.warn({ file: handleName(h) }, 'key file does not match its name')
      continue
    }
    let key: MasterKey | undefined
    try {
      key = await openKeyFile(bytes, password, userKeys)
    } catch (e) {
      damaged.push(handleName(h))
      log.warn({ file: handleName(h), err: e }, 'unreadable key file')
      continue
    }
    if (key) return { key, keyId: f.name as KeyId }
  }
  if (damaged.length > 0) {
    throw new IntegrityError(damaged.join(', '), 'no other key file opens with this password')
  }
  throw new CofferError(
    'repo_wrong_password',
    `Wrong password or no key found for the repository at ${backend.location}.`,
  )
}

/** Seals `key` under `password` into a new key file; returns its ID. */
export async function addKeyFile(
  backend: Backend,
  key: MasterKey,
  password: string,
  kdf: KdfParams,
  signal?: AbortSignal,
): Promise<KeyId> {
  const bytes = await createKeyFile(key, password, kdf, {
    created: formatGoTime(goTimeNow()),
    username: safeUsername(),
    hostname: osHostname(),
  })
  const id = hashId<KeyId>(bytes)
  await backend.save({ type: 'keys', name: id }, bytes, { signal })
  return id
}

function safeUsername(): string {
  try {
    return userInfo().username
  } catch {
    return ''
  }
}

/**
 * Reads every index file into a MasterIndex. Index files named in another's `supersedes`
 * are skipped (old restic wrote those when rewriting the index).
 */
async function loadIndex(
  store: UnpackedStore,
  log: Logger,
  signal?: AbortSignal,
): Promise<MasterIndex> {
  const ids: IndexId[] = []
  for await (const f of store.backend.list('index', { signal })) ids.push(f.name as IndexId)
  const files = new Map<IndexId, ReturnType<typeof parseIndexFile>>()
  await forEachLimit(
    ids,
    store.backend.connections,
    async (id, sig) => {
      const json = await store.loadUnpacked('index', id, sig)
      try {
        files.set(id, parseIndexFile(json))
      } catch (e) {
        throw new IntegrityError(`index/${id}`, (e as Error).message, { cause: e })
      }
    },
    signal,
  )
  const superseded = new Set<IndexId>()
  for (const f of files.values()) for (const s of f.supersedes) superseded.add(s)
  const index = new MasterIndex()
  for (const [id, f] of files) {
    if (superseded.has(id)) continue
    for (const p of f.packs) index.addPack(p.id, p.blobs, id)
  }
  log.debug({ indexFiles: files.size, superseded: superseded.size }, 'index loaded')
  return index
}

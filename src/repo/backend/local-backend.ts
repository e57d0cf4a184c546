import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import {
  chmod,
  lstat,
  mkdir,
  open,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
} from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError } from '../../errors.js'
import {
  CONFIG_HANDLE,
  handleName,
  type Backend,
  type CallOptions,
  type FileInfo,
  type FileType,
  type Handle,
  type LoadOptions,
  type PackSpool,
  type SpooledFile,
} from './backend.js'
import { notFoundError } from './backend-errors.js'
import { fsError } from './fs-error.js'
import { discardSpooled } from './spooled-file.js'

/**
 * A repository in a local directory, with restic's default layout (`data/xx/<id>`, `index/`,
 * `keys/`, `locks/`, `snapshots/`, `config`) and file modes (0600 files, 0700 directories;
 * group-readable when the config file is, as restic derives them).
 *
 * Each save writes a temporary file beside its target, fsyncs it, renames it into place and
 * fsyncs the directory, so that after a crash a file is either whole or absent; then the file
 * is made read-only, as restic does, against accidental modification.
 *
 * Packs may also be written by the crypto workers into `tmp/` and adopted from there (see
 * PackSpool): a backup then holds no pack in memory.
 */
export class LocalBackend implements Backend {
  readonly connections = 4
  private modes = { dir: 0o700, file: 0o600 }

  constructor(readonly path: string) {}

  get spool(): PackSpool {
    return {
      dir: this.spoolDir,
      fileMode: this.modes.file,
      adopt: (h, file, opts) => this.adopt(h, file, opts),
      discard: (file) => discardSpooled(file),
      clear: () => this.clearSpool(),
    }
  }

  get location(): string {
    return this.path
  }

  /** Opens an existing directory; derives file modes from the config file's. */
  static async open(path: string): Promise<LocalBackend> {
    const be = new LocalBackend(path)
    try {
      const st = await stat(join(path, 'config'))
      if (st.mode & 0o040) be.modes = { dir: 0o750, file: 0o640 }
    } catch {
      // No config yet (create follows) or unreadable (open reports it when reading).
    }
    return be
  }

  async create(opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted()
    const exists = await lstat(this.filename(CONFIG_HANDLE)).then(
      () => true,
      () => false,
    )
    if (exists) {
      throw new BackendError(`A repository already exists at ${this.path}.`, true, {
        code: 'repo_exists',
      })
    }
    const dirs = ['data', 'index', 'keys', 'locks', 'snapshots', 'tmp']
    for (let i = 0; i < 256; i++) dirs.push(join('data', i.toString(16).padStart(2, '0')))
    for (const d of dirs) {
      await mkdir(join(this.path, d), { recursive: true, mode: this.modes.dir }).catch(
        (e: unknown) => {
          throw fsError(e, `Cannot create ${join(this.path, d)}`)
        },
      )
    }
  }

  filename(h: Handle): string {
    return join(this.path, handleName(h))
  }

  async save(
    h: Handle,
    data: Uint8Array | readonly Uint8Array[],
    opts?: CallOptions,
  ): Promise<void> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    const finalName = this.filename(h)
    const dir = join(finalName, '..')
    const tmpName = `${finalName}-tmp-${randomBytes(6).toString('hex')}`
    const parts = data instanceof Uint8Array ? [data] : data
    let fh: FileHandle | undefined = await open(tmpName, 'wx', this.modes.file).catch(
      async (e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
          throw fsError(e, `Cannot write ${handleName(h)}`)
        await mkdir(dir, { recursive: true, mode: this.modes.dir })
        return open(tmpName, 'wx', this.modes.file)
      },
    )
    let renamed = false
    try {
      await writeParts(fh, parts, signal)
      await fh.sync()
      const closing = fh
      fh = undefined
      await closing.close()
      signal?.throwIfAborted()
      await rename(tmpName, finalName)
      renamed = true
      await fsyncDir(dir)
      await chmod(finalName, this.modes.file & ~0o222).catch(() => undefined)
    } catch (e) {
      if (signal?.aborted && e === signal.reason) throw e
      throw fsError(e, `Cannot write ${handleName(h)} in ${this.path}`)
    } finally {
      if (fh) await fh.close().catch(() => undefined)
      if (!renamed) await rm(tmpName, { force: true }).catch(() => undefined)
    }
  }

  /** PackSpool.adopt: flushes and renames a spooled file into place, as `save` does. */
  private async adopt(h: Handle, file: SpooledFile, opts?: CallOptions): Promise<void> {
    const finalName = this.filename(h)
    const dir = join(finalName, '..')
    let renamed = false
    try {
      // fsync(2) flushes the file's data whichever descriptor asks (the worker's is closed).
      const fh = await open(file.path, constants.O_RDONLY)
      try {
        await fh.sync()
      } finally {
        await fh.close()
      }
      opts?.signal?.throwIfAborted()
      const moved = await rename(file.path, finalName).then(
        () => true,
        async (e: unknown) => {
          const code = (e as NodeJS.ErrnoException).code
          // data/ on another filesystem than tmp/ (a link to another disk): copied instead.
          if (code === 'EXDEV') return false
          if (code !== 'ENOENT') throw e
          // A repository whose data/xx directories restic never made (or someone removed).
          await mkdir(dir, { recursive: true, mode: this.modes.dir })
          await rename(file.path, finalName)
          return true
        },
      )
      if (!moved) {
        await this.save(h, await readFile(file.path), opts)
        return
      }
      renamed = true
      await fsyncDir(dir)
      await chmod(finalName, this.modes.file & ~0o222).catch(() => undefined)
    } catch (e) {
      if (opts?.signal?.aborted && e === opts.signal.reason) throw e
      if (e instanceof BackendError) throw e
      throw fsError(e, `Cannot write ${handleName(h)} in ${this.path}`)
    } finally {
      if (!renamed) await discardSpooled(file)
    }
  }

  private get spoolDir(): string {
    return join(this.path, 'tmp')
  }

  /** PackSpool.clear: removes what killed backups left in `tmp/`. */
  private async clearSpool(): Promise<number> {
    const dir = this.spoolDir
    const names = await readdir(dir).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw fsError(e, `Cannot list ${dir}`)
    })
    for (const name of names) {
      await rm(join(dir, name), { force: true, recursive: true }).catch((e: unknown) => {
        throw fsError(e, `Cannot remove ${join(dir, name)}`)
      })
    }
    return names.length
  }

  async load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    opts?.signal?.throwIfAborted()
    const name = this.filename(h)
    let fh
    try {
      fh = await open(name, constants.O_RDONLY)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFoundError(h, this.path, e)
      throw fsError(e, `Cannot read ${handleName(h)} in ${this.path}`)
    }
    try {
      const offset = opts?.offset ?? 0
      const length = opts?.length ?? (await fh.stat()).size - offset
      if (length < 0)
        throw new BackendError(`Cannot read ${handleName(h)}: offset past its end.`, true)
      const buf = Buffer.allocUnsafe(length)
      let got = 0
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got)
        if (bytesRead === 0) {
          throw new BackendError(
            `Repository file ${handleName(h)} is shorter than expected (${offset + got} bytes, wanted ${offset + length}).`,
            true,
          )
        }
        got += bytesRead
      }
      return buf
    } catch (e) {
      if (e instanceof BackendError) throw e
      throw fsError(e, `Cannot read ${handleName(h)} in ${this.path}`)
    } finally {
      await fh.close()
    }
  }

  async stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    opts?.signal?.throwIfAborted()
    try {
      const st = await stat(this.filename(h))
      return { name: h.name, size: st.size }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFoundError(h, this.path, e)
      throw fsError(e, `Cannot stat ${handleName(h)} in ${this.path}`)
    }
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    if (type === 'config') {
      try {
        yield await this.stat(CONFIG_HANDLE, opts)
      } catch {
        // no config: an empty listing
      }
      return
    }
    const base = join(this.path, type)
    const dirs =
      type === 'data'
        ? (await readdir(base).catch(() => []))
            .filter((d) => /^[0-9a-f]{2}$/.test(d))
            .map((d) => join(base, d))
        : [base]
    for (const dir of dirs) {
      let handle
      try {
        handle = await opendir(dir)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw fsError(e, `Cannot list ${dir}`)
      }
      for await (const entry of handle) {
        opts?.signal?.throwIfAborted()
        // Skip temporaries of saves in progress (or left by a crash) and stray files.
        if (!entry.isFile() || !/^[0-9a-f]{64}$/.test(entry.name)) continue
        const st = await stat(join(dir, entry.name)).catch(() => undefined)
        if (st) yield { name: entry.name, size: st.size }
      }
    }
  }

  async remove(h: Handle, opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted()
    try {
      await rm(this.filename(h), { force: true })
    } catch (e) {
      throw fsError(e, `Cannot remove ${handleName(h)} in ${this.path}`)
    }
  }

  async close(): Promise<void> {}
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    await fh.sync().catch((e: unknown) => {
      // Some filesystems cannot fsync a directory; the rename is then as durable as it gets.
      if (!['EINVAL', 'ENOTSUP', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e
    })
  } finally {
    await fh.close()
  }
}

/** Buffers per writev(2) call: Linux's IOV_MAX. */
const IOV_MAX = 1024

/**
 * Writes `parts` back to back from the file's start, many per writev(2): a pack arrives as
 * one part per blob (a first backup's 16 MiB pack of photos has about 160), and one write
 * call per part cost the main thread about 100 µs each (1.7 s of a 15,000-file backup).
 */
async function writeParts(
  fh: FileHandle,
  parts: readonly Uint8Array[],
  signal: AbortSignal | undefined,
): Promise<void> {
  let pos = 0
  let i = 0
  /** Bytes of parts[i] already written (a short write can end inside a part). */
  let done = 0
  while (i < parts.length) {
    signal?.throwIfAborted()
    const batch: Uint8Array[] = []
    let wanted = 0
    for (let j = i; j < parts.length && batch.length < IOV_MAX; j++) {
      const p = j === i ? parts[j]!.subarray(done) : parts[j]!
      batch.push(p)
      wanted += p.length
    }
    const { bytesWritten } = await fh.writev(batch, pos)
    if (bytesWritten === 0 && wanted > 0) throw new Error('writev wrote nothing')
    pos += bytesWritten
    // Advance past what was written, whole parts first.
    let left = bytesWritten
    while (i < parts.length && left >= parts[i]!.length - done) {
      left -= parts[i]!.length - done
      done = 0
      i++
    }
    done += left
  }
}

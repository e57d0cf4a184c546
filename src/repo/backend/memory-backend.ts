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
} from './backend.js'
import { notFoundError } from './backend-errors.js'

/**
 * A repository held in memory: a real backend with the same contract as the others (it runs
 * the same conformance suite), for tests and for staging small repositories.
 */
export class MemoryBackend implements Backend {
  readonly location = 'memory'
  readonly connections = 8
  private readonly files = new Map<string, Buffer>()

  private key(h: Handle): string {
    return handleName(h)
  }

  async create(opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted()
    if (this.files.has(this.key(CONFIG_HANDLE))) {
      throw new BackendError('A repository already exists in memory.', true, {
        code: 'repo_exists',
      })
    }
  }

  async save(
    h: Handle,
    data: Uint8Array | readonly Uint8Array[],
    opts?: CallOptions,
  ): Promise<void> {
    opts?.signal?.throwIfAborted()
    const parts = data instanceof Uint8Array ? [data] : data
    this.files.set(
      this.key(h),
      Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length))),
    )
  }

  async load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    opts?.signal?.throwIfAborted()
    const f = this.files.get(this.key(h))
    if (!f) throw notFoundError(h, this.location)
    const offset = opts?.offset ?? 0
    const length = opts?.length ?? f.length - offset
    if (offset < 0 || length < 0 || offset + length > f.length) {
      throw new BackendError(
        `Repository file ${handleName(h)} is shorter than expected (${f.length} bytes, wanted ${offset + length}).`,
        true,
      )
    }
    return Buffer.from(f.subarray(offset, offset + length))
  }

  async stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    opts?.signal?.throwIfAborted()
    const f = this.files.get(this.key(h))
    if (!f) throw notFoundError(h, this.location)
    return { name: h.name, size: f.length }
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    const prefix = type === 'config' ? 'config' : `${type}/`
    for (const [key, f] of [...this.files]) {
      opts?.signal?.throwIfAborted()
      if (!key.startsWith(prefix)) continue
      yield { name: key.slice(key.lastIndexOf('/') + 1), size: f.length }
    }
  }

  async remove(h: Handle, opts?: CallOptions): Promise<void> {
    opts?.signal?.throwIfAborted()
    this.files.delete(this.key(h))
  }

  async close(): Promise<void> {}
}

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { BlobDamage, SealedBlob } from '../blob-codec.js'
import type { MasterKey } from '../crypto/index.js'
import type { BlobType } from '../pack/index.js'
import type { CryptoRequest, CryptoResponse, CryptoWorkerData } from './crypto-messages.js'
import { workerEntry } from './worker-entry.js'

interface Pending {
  resolve: (r: CryptoResponse) => void
  reject: (e: unknown) => void
}

/**
 * Seals and opens blobs on worker threads, so that compression, encryption, MAC and hashing
 * use every core while the main thread reads, chunks and writes. Tasks go to the least busy
 * worker; buffers are transferred (the caller must not reuse a buffer it passed in).
 * Workers are referenced only while they have work: an idle pool does not keep the process
 * alive, and a pending task does.
 */
export class CryptoPool {
  private readonly workers: { worker: Worker; busy: number }[] = []
  private readonly pending = new Map<number, Pending>()
  private nextTask = 1
  private closed = false

  constructor(key: MasterKey, size = Math.max(1, availableParallelism())) {
    const url = workerEntry('crypto-worker', import.meta.url)
    const data: CryptoWorkerData = { key: key.toBytes() }
    for (let i = 0; i < size; i++) {
      const worker = new Worker(url, { workerData: data })
      const slot = { worker, busy: 0 }
      worker.on('message', (res: CryptoResponse) => {
        // Idle workers must not keep the process alive; busy ones must (see run).
        if (--slot.busy === 0) worker.unref()
        const p = this.pending.get(res.task)
        this.pending.delete(res.task)
        p?.resolve(res)
      })
      worker.on('error', (e) => this.failAll(e))
      worker.unref()
      this.workers.push(slot)
    }
  }

  get size(): number {
    return this.workers.length
  }

  private failAll(e: unknown): void {
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
  }

  private run(req: CryptoRequest, transfer: ArrayBuffer[]): Promise<CryptoResponse> {
    if (this.closed) return Promise.reject(new Error('crypto pool is closed'))
    let slot = this.workers[0]!
    for (const w of this.workers) if (w.busy < slot.busy) slot = w
    if (slot.busy++ === 0) slot.worker.ref()
    return new Promise((resolve, reject) => {
      this.pending.set(req.task, { resolve, reject })
      slot.worker.postMessage(req, transfer)
    })
  }

  /** Compresses (when allowed and useful) and seals a blob's plaintext. Takes `data` over. */
  async seal(type: BlobType, data: Uint8Array, compress: boolean): Promise<SealedBlob> {
    const owned = transferable(data)
    const res = await this.run(
      { kind: 'seal', task: this.nextTask++, type, data: owned, compress },
      [owned.buffer as ArrayBuffer],
    )
    if (res.kind !== 'sealed')
      throw new Error(res.kind === 'failed' ? res.message : 'unexpected worker answer')
    return {
      sealed: Buffer.from(res.sealed.buffer, res.sealed.byteOffset, res.sealed.byteLength),
      ...(res.uncompressedLength === undefined
        ? {}
        : { uncompressedLength: res.uncompressedLength }),
    }
  }

  /** Verifies, decrypts, decompresses and hash-checks a stored blob. Takes `sealed` over. */
  async open(
    sealed: Uint8Array,
    id: string,
    uncompressedLength: number | undefined,
  ): Promise<Buffer | BlobDamage> {
    const owned = transferable(sealed)
    const res = await this.run(
      { kind: 'open', task: this.nextTask++, sealed: owned, id, uncompressedLength },
      [owned.buffer as ArrayBuffer],
    )
    if (res.kind === 'opened')
      return Buffer.from(res.data.buffer, res.data.byteOffset, res.data.byteLength)
    if (res.kind === 'damaged') return res.damage
    throw new Error(res.kind === 'failed' ? res.message : 'unexpected worker answer')
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
    this.failAll(new Error('crypto pool closed'))
  }
}

/**
 * A view that owns its whole ArrayBuffer, so it can be transferred: slices of a larger
 * buffer (Node's pooled small Buffers, subarrays) are copied once instead.
 */
function transferable(b: Uint8Array): Uint8Array {
  if (
    b.byteOffset === 0 &&
    b.byteLength === b.buffer.byteLength &&
    !(b.buffer instanceof SharedArrayBuffer)
  )
    return b
  return new Uint8Array(b)
}

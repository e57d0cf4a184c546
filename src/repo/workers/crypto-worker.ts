import { createHash } from 'node:crypto'
import { Scratch } from '../../lib/index.js'
import { SpareBuffers } from '../../lib/spare-buffers.js'
import { parentPort, workerData } from 'node:worker_threads'
import { openBlob, OpenScratch, sealBlob } from '../blob-codec.js'
import { ChunkAssembler, IdleAssemblers, type Polynomial } from '../chunker/index.js'
import { MasterKey } from '../crypto/master-key.js'
import type { BlobType } from '../pack/index.js'
import type {
  CryptoRequest,
  CryptoResponse,
  CryptoWorkerData,
  PackFromWorker,
  PackTarget,
} from './crypto-messages.js'
import { RangeWriter, readRange } from './range-writer.js'
import { ReadBuffers, readSmallFile } from './small-file-read.js'
import { SpoolBatches, SpooledPack, SpoolWriteError } from './spooled-pack.js'
import { WorkerPack, type OpenPack } from './worker-pack.js'

// A worker thread of the crypto pool: chunks streams, hashes, seals and opens blobs (Rabin
// fingerprints, zstd, AES-256-CTR, Poly1305-AES, SHA-256), the CPU-heavy steps of every
// backup and restore.
const port = parentPort!
const key = MasterKey.fromBytes((workerData as CryptoWorkerData).key)
/** Data hashed and waiting for the main thread's decision (seal-held or drop). */
const held = new Map<
  number,
  { type: BlobType; id: string; data: Uint8Array; compress: boolean; pooled?: Buffer }
>()
/** Small files are read into these, given back once their data is sealed or dropped. */
const readBuffers = new ReadBuffers()
/** The open data pack of each packer (a BlobSaver) on this thread. */
const packs = new Map<number, OpenPack>()
/** Packers whose packs were dropped (abandoned backups; a few numbers per backup). */
const droppedPackers = new Set<number>()
/** Buffers of saved packs, given back by the main thread for the next ones. */
const spareBuffers: ArrayBuffer[] = []
const MAX_SPARE_BUFFERS = 1
/** Spooled packs' write batches, and where their blobs too large for one are sealed. */
const spoolBatches = new SpoolBatches()
const largeSpooledBlob = new Scratch()
/**
 * Chunks' buffers, given back by the main thread once their blobs are sealed or found
 * stored, for the next chunks cut here (see SpareBuffers): a large file's stream has
 * about 12 MiB of chunks in flight (queued, then sealing).
 */
const CHUNK_SPARE_BYTES = 12 * 1024 * 1024
const chunkBuffers = new SpareBuffers(CHUNK_SPARE_BYTES)
/** Streams being chunked here, by task, with their polynomial. */
const streams = new Map<number, { pol: Polynomial; assembler: ChunkAssembler }>()
/** Assemblers of ended streams, for the next ones (see IdleAssemblers). */
const assemblers = new IdleAssemblers(
  (pol) => new ChunkAssembler(pol, { alloc: (length) => chunkBuffers.take(length) }),
)
const ranges = new RangeWriter(key)
/** Blobs a check opens are only verified: their plaintext reuses these buffers. */
const verifying = new OpenScratch()
/** A local pack a check reads here. */
const verifyingPack = new Scratch()

/** A standalone ArrayBuffer view, so the result can be transferred, not copied. */
function own(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b
  return new Uint8Array(b)
}

function sendSealed(task: number, type: BlobType, data: Uint8Array, compress: boolean): void {
  const s = sealBlob(key, type, data, compress)
  const sealed = own(s.sealed)
  const res: CryptoResponse = {
    kind: 'sealed',
    task,
    sealed,
    uncompressedLength: s.uncompressedLength,
  }
  port.postMessage(res, [sealed.buffer as ArrayBuffer])
}

/** Seals a data blob into its packer's pack; answers `packed`, with the pack if now full. */
function sendPacked(
  task: number,
  into: PackTarget,
  id: string,
  data: Uint8Array,
  compress: boolean,
  giveBack = false,
): void {
  let pack = packs.get(into.packer)
  if (!pack) {
    // A blob that was on its way when its backup was abandoned: no new pack (nor file) for it.
    if (droppedPackers.has(into.packer))
      throw new Error('the backup saving this blob was abandoned')
    pack = into.spool
      ? new SpooledPack('data', into.packSize, into.spool, spoolBatches, largeSpooledBlob)
      : new WorkerPack('data', into.packSize, spareBuffers.pop())
    packs.set(into.packer, pack)
  }
  const added = pack.add(key, id, data, compress)
  let full: PackFromWorker | undefined
  if (pack.full) {
    packs.delete(into.packer)
    full = pack.finish(key)
  }
  const spare = giveBack ? (data.buffer as ArrayBuffer) : undefined
  const res: CryptoResponse = {
    kind: 'packed',
    task,
    ...added,
    ...(full ? { full } : {}),
    ...(spare ? { spare } : {}),
  }
  port.postMessage(res, [...transferOf(full), ...(spare ? [spare] : [])])
}

/** What of a finished pack moves to the main thread without a copy: its buffer, if any. */
function transferOf(pack: PackFromWorker | undefined): ArrayBuffer[] {
  return pack && 'buffer' in pack ? [pack.buffer] : []
}

/** Sends a whole chunk back with its ID; the assembler made it a view of its own ArrayBuffer. */
function sendChunk(task: number, data: Uint8Array): void {
  const id = createHash('sha256').update(data).digest('hex')
  const res: CryptoResponse = { kind: 'chunk', task, id, data }
  port.postMessage(res, [data.buffer as ArrayBuffer])
}

port.on('message', (req: CryptoRequest) => {
  try {
    switch (req.kind) {
      case 'seal':
        if (req.into && req.type === 'data')
          sendPacked(req.task, req.into, req.into.id, req.data, req.compress, req.giveBack)
        else sendSealed(req.task, req.type, req.data, req.compress)
        return
      case 'hash': {
        const id = createHash('sha256').update(req.data).digest('hex')
        held.set(req.task, { type: req.type, id, data: req.data, compress: req.compress })
        const res: CryptoResponse = { kind: 'hashed', task: req.task, id }
        port.postMessage(res)
        return
      }
      case 'read-hash': {
        const into = readBuffers.take(req.size + 1)
        const r = readSmallFile(req.path, req.size, into)
        let res: CryptoResponse
        if (r === 'grew' || 'failure' in r) readBuffers.give(into)
        if (r === 'grew') res = { kind: 'grew', task: req.task }
        else if ('failure' in r) res = { kind: 'unreadable', task: req.task, failure: r.failure }
        else {
          const id = createHash('sha256').update(r.data).digest('hex')
          held.set(req.task, {
            type: 'data',
            id,
            data: r.data,
            compress: req.compress,
            pooled: into,
          })
          res = { kind: 'hashed', task: req.task, id, length: r.data.length }
        }
        port.postMessage(res)
        return
      }
      case 'chunk-open':
        streams.set(req.task, { pol: req.pol, assembler: assemblers.take(req.pol) })
        return
      case 'chunk-feed': {
        const stream = streams.get(req.task)
        if (!stream) throw new Error(`no stream for task ${req.task}`)
        for (const chunk of stream.assembler.push(req.data)) sendChunk(req.task, chunk)
        if (req.end) {
          streams.delete(req.task)
          const last = stream.assembler.end()
          if (last) sendChunk(req.task, last)
          assemblers.give(stream.pol, stream.assembler)
        }
        // The assembler copied what it keeps: the feed's buffer goes back for the next feed.
        const feed = req.data.buffer as ArrayBuffer
        const res: CryptoResponse = { kind: 'fed', task: req.task, end: req.end, feed }
        port.postMessage(res, [feed])
        return
      }
      case 'chunk-close': {
        const stream = streams.get(req.task)
        streams.delete(req.task)
        if (stream) assemblers.give(stream.pol, stream.assembler)
        return
      }
      case 'chunk-spare':
        chunkBuffers.keep(req.buffer)
        return
      case 'seal-held': {
        const h = held.get(req.task)
        held.delete(req.task)
        if (!h) throw new Error(`no held data for task ${req.task}`)
        try {
          if (req.into && h.type === 'data')
            sendPacked(req.task, req.into, h.id, h.data, h.compress)
          else sendSealed(req.task, h.type, h.data, h.compress)
        } finally {
          if (h.pooled) readBuffers.give(h.pooled)
        }
        return
      }
      case 'drop': {
        const h = held.get(req.task)
        held.delete(req.task)
        if (h?.pooled) readBuffers.give(h.pooled)
        return
      }
      case 'pack-finish': {
        const pack = packs.get(req.packer)
        packs.delete(req.packer)
        let finished: PackFromWorker | undefined
        if (pack && pack.size > 0) finished = pack.takeBlobs()
        else pack?.discard()
        const res: CryptoResponse = {
          kind: 'pack-finished',
          task: req.task,
          ...(finished ? { pack: finished } : {}),
        }
        port.postMessage(res, transferOf(finished))
        return
      }
      case 'pack-drop': {
        packs.get(req.packer)?.discard()
        packs.delete(req.packer)
        droppedPackers.add(req.packer)
        const res: CryptoResponse = { kind: 'pack-finished', task: req.task }
        port.postMessage(res)
        return
      }
      case 'pack-buffer':
        if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(req.buffer)
        return
      case 'open': {
        const r = openBlob(key, req.sealed, req.id, req.uncompressedLength)
        if (typeof r === 'string') {
          const res: CryptoResponse = { kind: 'damaged', task: req.task, damage: r }
          port.postMessage(res)
          return
        }
        const data = own(r)
        const res: CryptoResponse = { kind: 'opened', task: req.task, data }
        port.postMessage(res, [data.buffer as ArrayBuffer])
        return
      }
      case 'open-range': {
        const results = req.blobs.map((b) => {
          const sealed = req.sealed.subarray(b.offset, b.offset + b.length)
          const r = openBlob(key, sealed, b.id, b.uncompressedLength)
          return typeof r === 'string' ? r : own(r)
        })
        const res: CryptoResponse = { kind: 'opened-range', task: req.task, results }
        const transfer = results.flatMap((r) =>
          typeof r === 'string' ? [] : [r.buffer as ArrayBuffer],
        )
        port.postMessage(res, transfer)
        return
      }
      case 'verify-pack': {
        const source = req.source
        const bytes =
          'sealed' in source
            ? source.sealed
            : readRange(source.file, source.offset, source.length, verifyingPack)
        if (typeof bytes === 'string') {
          const res: CryptoResponse = { kind: 'verified-pack', task: req.task, unread: bytes }
          port.postMessage(res)
          return
        }
        const results = req.blobs.map((b) => {
          const sealed = bytes.subarray(b.offset, b.offset + b.length)
          const r = openBlob(key, sealed, b.id, b.uncompressedLength, verifying)
          return typeof r === 'string' ? r : null
        })
        const sha256 = createHash('sha256').update(bytes).digest('hex')
        // Only bytes that came with the request go back (a pack read here stays in its buffer).
        const buffer =
          req.giveBack && 'sealed' in source ? (source.sealed.buffer as ArrayBuffer) : undefined
        const res: CryptoResponse = {
          kind: 'verified-pack',
          task: req.task,
          sha256,
          results,
          ...(buffer ? { buffer } : {}),
        }
        port.postMessage(res, buffer ? [buffer] : [])
        return
      }
      case 'write-range': {
        const res: CryptoResponse = {
          kind: 'wrote-range',
          task: req.task,
          ...ranges.write(req.source, req.blobs),
        }
        port.postMessage(res)
        return
      }
      default:
        req satisfies never
    }
  } catch (e) {
    streams.delete(req.task)
    const res: CryptoResponse = {
      kind: 'failed',
      task: req.task,
      message: e instanceof Error ? e.message : String(e),
      ...(e instanceof SpoolWriteError
        ? { storage: { what: e.what, ...(e.code ? { code: e.code } : {}) } }
        : {}),
    }
    port.postMessage(res)
  }
})

import { createHash, type Hash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { SpareBuffers } from '../../lib/spare-buffers.js'
import {
  ChunkAssembler,
  GearChunker,
  IdleAssemblers,
  type Polynomial,
} from '../../repo/chunker/index.js'
import type { HashedChunk } from '../../repo/index.js'
import type { EncoderAnswer, EncoderRequest } from './row-encoder-messages.js'
import { RowFeedEncoder } from './row-format-encoder.js'

/**
 * A row encoder thread: turns feeds of row packets into data-file lines (row-format.ts),
 * counting the rows and bytes and hashing the lines of each stream as they pass. A chunked
 * stream's lines are also cut into the repository's chunks and hashed here, where they are
 * made: they cross to the sealing threads once, as chunks, instead of going to the main
 * thread as lines and from there to a chunking thread.
 */
interface Stream {
  readonly output: 'lines' | 'none' | Chunking
  readonly hash: Hash | undefined
  rows: number
  bytes: number
}

const port = parentPort!
const SPARE_BYTES = 24 * 1024 * 1024
const streams = new Map<number, Stream>()
/** Encodes feeds into lines in its own memory, from where they are copied out. */
const encoder = new RowFeedEncoder()

/** Forgets a stream; its assembler, if any, serves the next one. */
function close(stream: number): void {
  const s = streams.get(stream)
  streams.delete(stream)
  if (s && typeof s.output !== 'string') endChunking(s.output)
}

const answer = (a: EncoderAnswer, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(a, transfer)

/**
 * Chunks' buffers back from the repository, and lines buffers back from readers that are
 * done with them, reused for the next chunks and lines (see SpareBuffers): about what two
 * streams have in flight (two feeds of lines, four chunks sealing, each 1-2 MiB).
 */
const spares = new SpareBuffers(SPARE_BYTES)
/** A view of `length` bytes for a chunk or lines: of a spare buffer that fits, or of a new one. */
const outputBuffer = (length: number): Uint8Array => spares.take(length)

/** Assemblers of ended streams, for the next ones (see IdleAssemblers). */
const assemblers = new IdleAssemblers(
  (pol) => new ChunkAssembler(new GearChunker(pol), { alloc: outputBuffer }),
)

interface Chunking {
  readonly pol: Polynomial
  readonly assembler: ChunkAssembler
}

function startChunking(pol: Polynomial): Chunking {
  return { pol, assembler: assemblers.take(pol) }
}

/** A stream's chunking is over (its assembler ended or dropped: ready for a new stream). */
function endChunking(c: Chunking): void {
  assemblers.give(c.pol, c.assembler)
}

/**
 * A data blob's ID, the SHA-256 of its plaintext (design.rst; the repository's `hashId`):
 * computed here so that this thread loads the chunkers alone, not the repository engine and
 * its native modules (about 20 MB and 0.1 s of CPU per thread).
 */
const blobId = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

/** Chunks with their IDs; each chunk has an ArrayBuffer of its own, to transfer. */
const hashed = (chunks: readonly Uint8Array[]): HashedChunk[] =>
  chunks.map((data) => ({ id: blobId(data), data }))

const buffersOf = (chunks: readonly HashedChunk[]): ArrayBuffer[] =>
  chunks.map((c) => c.data.buffer as ArrayBuffer)

port.on('message', (req: EncoderRequest) => {
  switch (req.kind) {
    case 'open':
      streams.set(req.stream, {
        output: typeof req.output === 'string' ? req.output : startChunking(req.output.pol),
        hash: req.hashed ? createHash('sha256') : undefined,
        rows: 0,
        bytes: 0,
      })
      return
    case 'drop':
      close(req.stream)
      return
    case 'spare':
      spares.keep(req.buffer)
      return
    case 'feed': {
      const s = streams.get(req.stream)
      if (!s) return
      try {
        const { lines: out, rows } = encoder.encode(req.data)
        s.hash?.update(out)
        s.rows += rows
        s.bytes += out.length
        const feed = req.data.buffer as ArrayBuffer
        if (s.output === 'lines') {
          // A copy of its own (in a buffer a reader gave back, when there is one), handed
          // over without another: the encoder's memory stays here.
          const lines = outputBuffer(out.length)
          lines.set(out)
          answer({ kind: 'encoded', stream: req.stream, lines, feed: req.data }, [
            lines.buffer as ArrayBuffer,
            feed,
          ])
        } else if (s.output === 'none') {
          answer({ kind: 'encoded', stream: req.stream, feed: req.data }, [feed])
        } else {
          const chunks = hashed(s.output.assembler.push(out))
          answer({ kind: 'encoded', stream: req.stream, chunks, feed: req.data }, [
            ...buffersOf(chunks),
            feed,
          ])
        }
      } catch (e) {
        close(req.stream)
        answer({ kind: 'failed', stream: req.stream, message: (e as Error).message })
      }
      return
    }
    case 'end': {
      const s = streams.get(req.stream)
      if (!s) return
      const last = typeof s.output === 'string' ? undefined : s.output.assembler.end()
      close(req.stream)
      const chunks = last ? hashed([last]) : []
      answer(
        {
          kind: 'done',
          stream: req.stream,
          rows: s.rows,
          bytes: s.bytes,
          sha256: s.hash?.digest('hex') ?? '',
          ...(chunks.length > 0 ? { chunks } : {}),
        },
        buffersOf(chunks),
      )
      return
    }
  }
})

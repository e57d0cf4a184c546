import { createHash, type Hash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { EncoderAnswer, EncoderRequest } from './row-encoder-messages.js'
import { encodedBound, encodeFeed } from './row-format.js'

/**
 * A row encoder thread: turns feeds of row packets into data-file lines (row-format.ts),
 * counting the rows and bytes and hashing the lines of each stream as they pass.
 */
interface Stream {
  readonly lines: boolean
  readonly hash: Hash
  rows: number
  bytes: number
}

const port = parentPort!
const streams = new Map<number, Stream>()
/** Where lines are encoded before being copied out at their exact length; grows once. */
let scratch = Buffer.allocUnsafe(0)

const answer = (a: EncoderAnswer, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(a, transfer)

port.on('message', (req: EncoderRequest) => {
  switch (req.kind) {
    case 'open':
      streams.set(req.stream, { lines: req.lines, hash: createHash('sha256'), rows: 0, bytes: 0 })
      return
    case 'drop':
      streams.delete(req.stream)
      return
    case 'feed': {
      const s = streams.get(req.stream)
      if (!s) return
      try {
        const data = Buffer.from(req.data.buffer, req.data.byteOffset, req.data.byteLength)
        const need = encodedBound(data.length)
        if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, 3 << 20))
        const { end, rows } = encodeFeed(data, scratch)
        const out = scratch.subarray(0, end)
        s.hash.update(out)
        s.rows += rows
        s.bytes += end
        if (s.lines) {
          // A copy of its own, handed over without another: the scratch stays here.
          const lines = new Uint8Array(out)
          answer({ kind: 'encoded', stream: req.stream, lines, feed: req.data }, [
            lines.buffer,
            req.data.buffer as ArrayBuffer,
          ])
        } else
          answer({ kind: 'encoded', stream: req.stream, feed: req.data }, [
            req.data.buffer as ArrayBuffer,
          ])
      } catch (e) {
        streams.delete(req.stream)
        answer({ kind: 'failed', stream: req.stream, message: (e as Error).message })
      }
      return
    }
    case 'end': {
      const s = streams.get(req.stream)
      if (!s) return
      streams.delete(req.stream)
      answer({
        kind: 'done',
        stream: req.stream,
        rows: s.rows,
        bytes: s.bytes,
        sha256: s.hash.digest('hex'),
      })
      return
    }
  }
})

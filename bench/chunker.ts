import { createCipheriv, createHash } from 'node:crypto'
import {
  chunkStream,
  MIN_SIZE,
  parsePolynomial,
  RabinChunker,
  type Polynomial,
} from '../src/repo/chunker/index.js'
import { printTable, ratio } from './lib/measure.js'

const MiB = 1024 * 1024

/**
 * `npm run bench -- chunker [--size MiB] [--rounds N]`: the restic-compatible chunker on one
 * thread over random and text-like data (256 MiB each by default), next to node:crypto's
 * SHA-256 over the same bytes for scale. Best of N rounds. "Hashed" counts only the bytes
 * the Rabin loop reads: after each cut restic skips MinSize - 64 bytes unhashed.
 */
export async function run(args: string[]): Promise<void> {
  const size = option(args, '--size', 256) * MiB
  const rounds = option(args, '--rounds', 3)
  const pol = parsePolynomial('3da3358b4dc173') // chunker_test.go's testPol
  const rows: string[][] = []
  for (const [name, data] of [
    ['random', randomData(size)],
    ['text', textData(size)],
  ] as const) {
    const sha = best(rounds, () => sha256(data))
    const core = best(rounds, () => chunkCore(data, pol))
    const stream = await bestAsync(rounds, () => chunkStreamed(data, pol))
    // Each chunk starts with MinSize - 64 bytes the loop skips (fewer for a short last one).
    const hashed = data.length - core.chunks * (MIN_SIZE - 64)
    const mibps = (bytes: number, s: number): string => (bytes / MiB / s).toFixed(0)
    const row = (what: string, r: Result): string[] => [
      `${name}: ${what}`,
      mibps(data.length, r.seconds),
      r.chunks > 0 ? mibps(hashed, r.seconds) : '-',
      r.chunks > 0 ? String(r.chunks) : '-',
      ratio(sha.seconds, r.seconds),
    ]
    rows.push(
      row('RabinChunker.next, 1 MiB reads', core),
      row('chunkStream, 64 KiB reads', stream),
      row('SHA-256 (node:crypto)', sha),
    )
    process.stdout.write(`${name}: done\n`)
  }
  process.stdout.write(`\n${size / MiB} MiB per data set, best of ${rounds}, one thread\n`)
  printTable(['data: what', 'MiB/s', '≈ hashed MiB/s', 'chunks', '× SHA-256 speed'], rows)
}

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name)
  const v = i >= 0 ? Number(args[i + 1]) : fallback
  if (!(v > 0)) throw new Error(`${name} needs a positive number`)
  return v
}

interface Result {
  readonly seconds: number
  readonly chunks: number
}

function best(rounds: number, fn: () => number): Result {
  let r: Result = { seconds: Infinity, chunks: 0 }
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    const chunks = fn()
    const seconds = (performance.now() - t0) / 1000
    if (seconds < r.seconds) r = { seconds, chunks }
  }
  return r
}

async function bestAsync(rounds: number, fn: () => Promise<number>): Promise<Result> {
  let r: Result = { seconds: Infinity, chunks: 0 }
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    const chunks = await fn()
    const seconds = (performance.now() - t0) / 1000
    if (seconds < r.seconds) r = { seconds, chunks }
  }
  return r
}

function sha256(data: Uint8Array): number {
  const h = createHash('sha256')
  for (let i = 0; i < data.length; i += MiB) h.update(data.subarray(i, i + MiB))
  h.digest()
  return 0
}

/** The core as a file reader would drive it: 1 MiB buffers, cuts found within them. */
function chunkCore(data: Uint8Array, pol: Polynomial): number {
  const chunker = new RabinChunker(pol)
  let chunks = 0
  let last = 0
  for (let i = 0; i < data.length; i += MiB) {
    const buf = data.subarray(i, i + MiB)
    for (let cut = chunker.next(buf, 0); cut >= 0; cut = chunker.next(buf, cut)) {
      chunks++
      last = i + cut
    }
  }
  return last < data.length ? chunks + 1 : chunks
}

/** The whole stream path, chunks copied out, fed as fs.createReadStream would (64 KiB). */
async function chunkStreamed(data: Uint8Array, pol: Polynomial): Promise<number> {
  async function* reads(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024)
  }
  let chunks = 0
  for await (const _chunk of chunkStream(reads(), pol)) chunks++
  return chunks
}

/** Incompressible bytes: an AES-128-CTR keystream from a fixed key. */
function randomData(size: number): Uint8Array {
  const key = createHash('sha256').update('bench chunker').digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16))
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i += 16 * MiB)
    out.set(cipher.update(new Uint8Array(Math.min(16 * MiB, size - i))), i)
  return out
}

/** Log lines from a small vocabulary, picked by the random stream: compressible, not periodic. */
function textData(size: number): Uint8Array {
  const words = [
    'GET',
    'POST',
    '/catalog/product/view/id/',
    '200',
    '404',
    '302',
    'INFO',
    'WARN',
    'cache',
    'miss',
    'hit',
    'order',
    'customer',
    'session',
    'checkout',
    'Zoë',
    'Jörg',
    '2024-05-17T10:',
  ].map((w) => Buffer.from(`${w} `))
  const rnd = randomData(Math.ceil(size / 4) + 1)
  const out = new Uint8Array(size)
  let at = 0
  for (let r = 0; at < size; r++) {
    const b = rnd[r % rnd.length]!
    const w = words[b % words.length]!
    out.set(w.subarray(0, Math.min(w.length, size - at)), at)
    at += w.length
    if (b >= 240 && at < size) out[at++] = 0x0a // a newline now and then
  }
  return out
}

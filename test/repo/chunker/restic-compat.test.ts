import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chunkStream,
  parsePolynomial,
  RabinChunker,
  type Polynomial,
} from '../../../src/repo/chunker/index.js'
import { resticOk } from '../../helpers/restic.js'
import { seededBytes, seededText } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

// The real restic (Debian's 0.14) is the oracle: it backs up generated files, and the data
// blob IDs it lists for each file must be the SHA-256 of the chunks Coffer cuts from the
// same bytes with the repository's polynomial.

const KiB = 1024
const MiB = 1024 * KiB
const PASSWORD = 'chunker-compat'

/** Zero runs, a block repeated many times, a periodic stretch longer than 8 MiB, random. */
function zerosAndRepeats(): Uint8Array {
  const parts: Uint8Array[] = [
    seededBytes('zr-head', 3 * MiB + 17),
    new Uint8Array(2 * MiB),
    ...Array<Uint8Array>(6).fill(seededBytes('zr-block', 700 * KiB + 3)),
    seededBytes('zr-mid', 100 * KiB),
    // A 4 KiB period: the window cycles through few digests, so only 8 MiB cuts it.
    ...Array<Uint8Array>(2600).fill(seededBytes('zr-period', 4 * KiB)),
    seededBytes('zr-before-zeros', 300 * KiB),
    new Uint8Array(600 * KiB),
    seededBytes('zr-tail', 1 * MiB + 333),
  ]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const files = [
  { name: 'random.bin', make: () => seededBytes('random', 32 * MiB + 5) },
  { name: 'zeros-and-repeats.bin', make: zerosAndRepeats },
  { name: 'text.log', make: () => seededText('text', 10 * MiB) },
  { name: 'small.bin', make: () => seededBytes('small', 100 * KiB) },
  { name: 'min-size.bin', make: () => seededBytes('min-size', 512 * KiB) },
  { name: 'empty.bin', make: () => new Uint8Array(0) },
]

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

function record(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw new Error(`${what}: not an object`)
  return x as Record<string, unknown>
}

function string(x: unknown, what: string): string {
  if (typeof x !== 'string') throw new Error(`${what}: not a string`)
  return x
}

/** Data blob IDs of every file in the snapshot, by path, walking into subtrees. */
async function contentByPath(
  repo: string,
  treeId: string,
  prefix = '',
): Promise<Map<string, string[]>> {
  const tree = record(JSON.parse(await resticOk(repo, PASSWORD, ['cat', 'blob', treeId])), 'tree')
  const nodes = tree.nodes
  if (!Array.isArray(nodes)) throw new Error('tree: no nodes')
  const out = new Map<string, string[]>()
  for (const n of nodes) {
    const node = record(n, 'node')
    const path = prefix + string(node.name, 'node name')
    if (node.type === 'dir') {
      for (const [p, c] of await contentByPath(repo, string(node.subtree, 'subtree'), `${path}/`))
        out.set(p, c)
    } else if (node.type === 'file') {
      const content: unknown = node.content ?? []
      if (!Array.isArray(content)) throw new Error(`${path}: content is not a list`)
      out.set(
        path,
        content.map((id) => string(id, 'blob id')),
      )
    }
  }
  return out
}

async function* pieces(data: Uint8Array, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length;) {
    const n = sizes()
    yield data.subarray(i, i + n)
    i += n
  }
}

async function idsOf(source: AsyncIterable<Uint8Array>, pol: Polynomial): Promise<string[]> {
  const ids: string[] = []
  for await (const chunk of chunkStream(source, pol)) ids.push(sha256(chunk))
  return ids
}

/** The core fed one byte at a time (through one reused 1-byte buffer). */
function idsByteByByte(data: Uint8Array, pol: Polynomial): string[] {
  const chunker = new RabinChunker(pol)
  const one = new Uint8Array(1)
  const ids: string[] = []
  let start = 0
  for (let i = 0; i < data.length; i++) {
    one[0] = data[i]!
    if (chunker.next(one, 0) === 1) {
      ids.push(sha256(data.subarray(start, i + 1)))
      start = i + 1
    }
  }
  if (start < data.length) ids.push(sha256(data.subarray(start)))
  return ids
}

describe('chunks match restic 0.14', () => {
  let cleanup: () => Promise<void> = async () => {}
  let dataDir = ''
  let pol: Polynomial
  let resticContent = new Map<string, string[]>()

  beforeAll(async () => {
    const tmp = await makeTempDir('chunker-restic-compat')
    cleanup = tmp.cleanup
    const repo = join(tmp.path, 'repo')
    dataDir = join(tmp.path, 'data')
    await mkdir(dataDir)
    for (const f of files) await writeFile(join(dataDir, f.name), f.make())

    await resticOk(repo, PASSWORD, ['init'])
    const config = record(JSON.parse(await resticOk(repo, PASSWORD, ['cat', 'config'])), 'config')
    pol = parsePolynomial(string(config.chunker_polynomial, 'chunker_polynomial'))

    const out = await resticOk(repo, PASSWORD, ['backup', '.', '--json'], { cwd: dataDir })
    const summary = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => record(JSON.parse(l), 'backup output'))
      .find((m) => m.message_type === 'summary')
    const snapshotId = string(summary?.snapshot_id, 'snapshot_id')
    const snapshot = record(
      JSON.parse(await resticOk(repo, PASSWORD, ['cat', 'snapshot', snapshotId])),
      'snapshot',
    )
    resticContent = await contentByPath(repo, string(snapshot.tree, 'tree'))
  }, 120_000)

  afterAll(() => cleanup())

  it('backed up every file', () => {
    expect([...resticContent.keys()].sort()).toEqual(files.map((f) => f.name).sort())
    // Enough cuts to mean something: random data averages one per MiB past the minimum.
    expect(resticContent.get('random.bin')!.length).toBeGreaterThan(6)
    expect(resticContent.get('zeros-and-repeats.bin')!.length).toBeGreaterThan(6)
    expect(resticContent.get('empty.bin')).toEqual([])
  })

  it.each(files.map((f) => f.name))('%s read from disk: same blobs as restic', async (name) => {
    const ids = await idsOf(createReadStream(join(dataDir, name)), pol)
    expect(ids).toEqual(resticContent.get(name))
  })

  it.each(files.map((f) => f.name))('%s in odd-sized pieces: same blobs', async (name) => {
    const data = new Uint8Array(await readFile(join(dataDir, name)))
    const want = resticContent.get(name)
    const rnd = seededBytes(`sizes-${name}`, 1 << 16)
    let r = 0
    const randomSize = (): number => 1 + 16 * rnd.readUInt16LE(r++ % (1 << 15))
    expect(
      await idsOf(
        pieces(data, () => 4099),
        pol,
      ),
    ).toEqual(want)
    expect(
      await idsOf(
        pieces(data, () => 64 * KiB),
        pol,
      ),
    ).toEqual(want)
    expect(await idsOf(pieces(data, randomSize), pol)).toEqual(want)
    // Tiny pieces cost a call each: the larger files get them in the unit tests instead.
    if (data.length <= 12 * MiB) {
      expect(
        await idsOf(
          pieces(data, () => 7),
          pol,
        ),
      ).toEqual(want)
      expect(idsByteByByte(data, pol)).toEqual(want)
    }
  })
})

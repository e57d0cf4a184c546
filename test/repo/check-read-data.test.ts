import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkRepository,
  handleName,
  LocalBackend,
  Repository,
  SnapshotWriter,
} from '../../src/repo/index.js'
import { LoadCountingBackend } from '../helpers/load-counting-backend.js'
import { createRepo, MOUNT_PASSWORD } from '../helpers/mount-repo.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b
}

// check --read-data verifies packs on the crypto workers: each damaged blob must still be
// named with what is wrong with it, beside the pack's own hash, and sound packs pass.
describe('check --read-data', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository

  beforeAll(async () => {
    tmp = await makeTempDir('check-read-data')
    repo = await createRepo(tmp.path)
    const writer = await SnapshotWriter.start(repo)
    // Random (stored uncompressed) and repetitive (compressed) content, several blobs each.
    await writer.writeFile('/data/random.bin', once(seededBytes('random', 3 * 1024 * 1024)))
    await writer.writeFile('/data/text.log', once(Buffer.from('a log line\n'.repeat(300_000))))
    await writer.commit({ paths: ['/data'], hostname: 'h' })
  })
  afterAll(() => tmp.cleanup())

  it('finds nothing wrong in sound packs and reads every one', async () => {
    const result = await checkRepository(repo, { readData: true })
    expect(result.errors, JSON.stringify(result.findings)).toBe(0)
    expect(result.packsRead).toBe(result.packs)
  })

  it('names a damaged blob and the pack whose content no longer matches its name', async () => {
    const index = await repo.index()
    const [packId, entries] = [...index.packs()].find(([, es]) =>
      es.some((e) => e.type === 'data' && e.uncompressedLength === undefined),
    )!
    const loc = entries.find((e) => e.type === 'data' && e.uncompressedLength === undefined)!
    const file = handleName({ type: 'data', name: packId })
    const path = join(tmp.path, 'repo', file)
    const bytes = await readFile(path)
    bytes[loc.offset + 40] = bytes[loc.offset + 40]! ^ 0xff
    await writeFile(path, bytes)
    const expected = [
      'content does not match its name (SHA-256)',
      `data blob ${loc.id.slice(0, 8)} fails authentication (MAC)`,
    ]
    // A local pack is read by the worker itself; through any other backend this thread
    // reads it whole (the counting wrapper shows it): both find the same.
    const result = await checkRepository(repo, { readData: true })
    expect(result.findings.filter((f) => f.file === file).map((f) => f.message)).toEqual(expected)
    expect(result.errors).toBe(2)
    const counting = new LoadCountingBackend(new LocalBackend(join(tmp.path, 'repo')))
    const viaWrapper = await Repository.open({ backend: counting, password: MOUNT_PASSWORD })
    try {
      const again = await checkRepository(viaWrapper, { readData: true })
      expect(again.findings.filter((f) => f.file === file).map((f) => f.message)).toEqual(expected)
      expect(counting.loads.some((l) => l.name === packId && l.length === -1)).toBe(true)
    } finally {
      await viaWrapper.close()
    }
  })
})

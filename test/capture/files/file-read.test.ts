import { symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileChunks } from '../../../src/capture/files/file-read.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

let tmp: Awaited<ReturnType<typeof makeTempDir>>
beforeAll(async () => {
  tmp = await makeTempDir('file-read')
})
afterAll(() => tmp.cleanup())

/** Reads `name` as readFileChunks does when its stat said `size`; the bytes and the count. */
async function read(name: string, size: number): Promise<{ bytes: Buffer; counted: number }> {
  let counted = 0
  const parts: Buffer[] = []
  for await (const part of readFileChunks(
    Buffer.from(join(tmp.path, name)),
    BigInt(size),
    (n) => (counted += n),
  ))
    parts.push(Buffer.from(part))
  return { bytes: Buffer.concat(parts), counted }
}

describe('readFileChunks', () => {
  const cases: [string, number][] = [
    ['empty', 0],
    ['one byte', 1],
    ['small', 100_000],
    ['just below the small-file limit', 512 * 1024 - 1],
    ['large, streamed', 3 * 1024 * 1024 + 17],
  ]
  for (const [name, size] of cases) {
    it(`reads a file as its stat said (${name})`, async () => {
      const data = seededBytes(name, size)
      await writeFile(join(tmp.path, name), data)
      const { bytes, counted } = await read(name, size)
      expect(bytes.equals(data)).toBe(true)
      expect(counted).toBe(size)
    })
  }

  it('reads what a file holds when it grew after its stat', async () => {
    const data = seededBytes('grown', 70_000)
    await writeFile(join(tmp.path, 'grown'), data)
    for (const statSize of [0, 1, 69_999, 50_000]) {
      const { bytes, counted } = await read('grown', statSize)
      expect(bytes.equals(data), `stat said ${statSize}`).toBe(true)
      expect(counted).toBe(data.length)
    }
  })

  it('reads what a file holds when it shrank after its stat', async () => {
    const data = seededBytes('shrunk', 30_000)
    await writeFile(join(tmp.path, 'shrunk'), data)
    for (const statSize of [30_001, 60_000, 600_000]) {
      const { bytes } = await read('shrunk', statSize)
      expect(bytes.equals(data), `stat said ${statSize}`).toBe(true)
    }
  })

  it('never reads through a symlink', async () => {
    await writeFile(join(tmp.path, 'target'), 'secret')
    await symlink(join(tmp.path, 'target'), join(tmp.path, 'link'))
    await expect(read('link', 6)).rejects.toMatchObject({ code: 'ELOOP' })
  })
})

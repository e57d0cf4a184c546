import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkRepository,
  Repository,
  SnapshotWriter,
  TEST_KDF,
  type Backend,
} from '../../../src/repo/index.js'
import { openBackend } from '../../../src/repo/backend/index.js'
import { restic } from '../../helpers/restic.js'
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.js'
import { seededBytes, seededText } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

// The engine in this process, Debian's restic beside it, one s3rver bucket between them. The
// CLI end to end on the edge-case tree is in s3-restic-compat.slow.test.ts.

const PASSWORD = 'same bucket, two tools'

let server: S3TestServer
let tmp: { path: string; cleanup: () => Promise<void> }

beforeAll(async () => {
  server = await startS3Server('restic-compat')
  tmp = await makeTempDir('s3-restic-compat')
})
afterAll(async () => {
  await server?.stop()
  await tmp?.cleanup()
})

const FILES: [string, Buffer][] = [
  ['shop/big.bin', seededBytes('big', 2_500_000)],
  ['shop/log.txt', seededText('log', 1_200_000)],
  ['shop/small.txt', Buffer.from('hello, coffer\n')],
  ['shop/empty', Buffer.alloc(0)],
]

function open(location: string): Promise<Backend> {
  return openBackend(location, { s3: server.clientOptions })
}

async function* chunks(b: Buffer): AsyncIterable<Uint8Array> {
  for (let o = 0; o < b.length; o += 64 * 1024) yield b.subarray(o, o + 64 * 1024)
}

/** Debian's restic as an operator runs it: `--cacert`, credentials in the environment. */
function resticEnv(): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: server.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: server.env.AWS_SECRET_ACCESS_KEY,
  }
}

async function resticOk(repo: string, args: string[], cwd?: string): Promise<string> {
  const r = await restic(repo, PASSWORD, ['--cacert', server.caFile, ...args], {
    env: resticEnv(),
    ...(cwd ? { cwd } : {}),
  })
  if (r.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/** Restores the latest snapshot with restic and compares the files with FILES. */
async function expectResticRestoresFiles(repo: string, label: string): Promise<void> {
  const target = join(tmp.path, label)
  await resticOk(repo, ['restore', 'latest', '--target', target])
  for (const [path, bytes] of FILES) {
    expect((await readFile(join(target, path))).equals(bytes), path).toBe(true)
  }
}

// Seconds each on an idle machine; the bound leaves room for a shared, loaded one.
describe('one S3 bucket, two tools', { timeout: 180_000 }, () => {
  it('Coffer writes under a prefix; restic checks every byte and reads the files equal', async () => {
    const repo = `${server.freshLocation('coffer-writes')}/team/shop`
    const be = await open(repo)
    let id: string
    try {
      const r = await Repository.init({ backend: be, password: PASSWORD, kdf: TEST_KDF })
      const writer = await SnapshotWriter.start(r)
      for (const [path, bytes] of FILES) await writer.writeFile(path, chunks(bytes))
      id = (await writer.commit({ paths: ['/shop'], hostname: 'shop' })).id
      await r.close()
    } finally {
      await be.close()
    }
    await resticOk(repo, ['check', '--read-data'])
    const snaps = JSON.parse(await resticOk(repo, ['snapshots', '--json'])) as { id: string }[]
    expect(snaps.map((s) => s.id)).toEqual([id])
    await expectResticRestoresFiles(repo, 'restic-restore-coffer')
  })

  it('restic writes; Coffer checks every byte and adds a snapshot that dedups and restic accepts', async () => {
    const repo = `${server.freshLocation('restic-writes')}/restic`
    const src = join(tmp.path, 'restic-src')
    await mkdir(join(src, 'shop'), { recursive: true })
    for (const [path, bytes] of FILES) await writeFile(join(src, path), bytes)
    await resticOk(repo, ['init', '--repository-version', '2'])
    await resticOk(repo, ['backup', '--tag', 'nightly', 'shop'], src)
    const be = await open(repo)
    try {
      const r = await Repository.open({ backend: be, password: PASSWORD })
      let read = 0
      const check = await checkRepository(r, {
        readData: true,
        progress: (p) => {
          if (p.phase === 'read-data') read = p.done
        },
      })
      expect(check.findings.filter((f) => f.severity === 'error')).toEqual([])
      expect(check.errors).toBe(0)
      expect(read).toBe(check.packs)
      expect(check.packs).toBeGreaterThan(0)
      // The same content again: restic's chunker polynomial and index, read from S3, make
      // every chunk a known blob.
      const writer = await SnapshotWriter.start(r)
      for (const [path, bytes] of FILES) await writer.writeFile(path, chunks(bytes))
      const snap = await writer.commit({ paths: ['/shop'], hostname: 'shop' })
      expect(snap.summary?.dataBlobs).toBe(0)
      await r.close()
    } finally {
      await be.close()
    }
    await resticOk(repo, ['check', '--read-data'])
    expect(JSON.parse(await resticOk(repo, ['snapshots', '--json']))).toHaveLength(2)
    await expectResticRestoresFiles(repo, 'restic-restore-both')
  })
})

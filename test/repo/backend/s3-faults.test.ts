import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackendError } from '../../../src/errors.js'
import {
  checkRepository,
  forget,
  prune,
  removeLocks,
  Repository,
  SnapshotWriter,
  TEST_KDF,
  type Backend,
  type SnapshotId,
} from '../../../src/repo/index.js'
import { openBackend, type RetryPolicy } from '../../../src/repo/backend/index.js'
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js'
import { restic } from '../../helpers/restic.js'
import { bucketName, startS3Server, type S3TestServer } from '../../helpers/s3-server.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

// The engine in this process, the network in between: a fault proxy in front of s3rver. The
// same faults end to end through the CLI are in s3-faults.slow.test.ts.

const PASSWORD = 'lossy network'
/** Small packs: many uploads and ranged reads, so faults meet every kind of request. */
const PACK_SIZE = 512 * 1024
/** Retries at once: backoff is retry-backend.test.ts's subject; here only the outcome counts. */
const INSTANT: RetryPolicy = { sleep: () => Promise.resolve() }

let server: S3TestServer
let proxy: FaultProxy
let tmp: { path: string; cleanup: () => Promise<void> }

beforeAll(async () => {
  server = await startS3Server('faults')
  proxy = await startFaultProxy({
    upstreamPort: server.port,
    key: await readFile(server.keyFile),
    cert: server.ca,
    seed: 's3-faults-fast',
  })
  tmp = await makeTempDir('s3-faults')
})
afterAll(async () => {
  await proxy?.stop()
  await server?.stop()
  await tmp?.cleanup()
})

/** One bucket, reached through the proxy and directly. */
function locations(label: string): { lossy: string; direct: string } {
  const bucket = bucketName(label)
  return { lossy: `s3:${proxy.endpoint}/${bucket}`, direct: `s3:${server.endpoint}/${bucket}` }
}

function open(location: string, retry: RetryPolicy | false = INSTANT): Promise<Backend> {
  return openBackend(location, { s3: server.clientOptions, retry })
}

/** The files of backup `i`: two of its own and one shared by all (deduplicated). */
function files(i: number, scale = 1): [string, Buffer][] {
  return [
    [`data/own-${i}-a.bin`, seededBytes(`own-${i}-a`, (300_000 + i * 1000) * scale)],
    [`data/own-${i}-b.bin`, seededBytes(`own-${i}-b`, 700_000 * scale)],
    ['data/shared.bin', seededBytes('shared', 900_000 * scale)],
  ]
}

async function backup(repo: Repository, i: number, scale = 1): Promise<SnapshotId> {
  const writer = await SnapshotWriter.start(repo, { packSize: PACK_SIZE })
  try {
    for (const [path, bytes] of files(i, scale)) {
      await writer.writeFile(path, chunks(bytes), { mtime: new Date(1_700_000_000_000) })
    }
  } catch (e) {
    await writer.abort().catch(() => undefined)
    throw e
  }
  return (await writer.commit({ paths: ['/data'], hostname: 'shop' })).id
}

async function* chunks(b: Buffer): AsyncIterable<Uint8Array> {
  for (let o = 0; o < b.length; o += 64 * 1024) yield b.subarray(o, o + 64 * 1024)
}

/** restic, as an operator runs it (`--cacert`, keys in the environment), reaching s3rver. */
async function resticOk(repo: string, args: string[]): Promise<string> {
  const env = {
    AWS_ACCESS_KEY_ID: server.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: server.env.AWS_SECRET_ACCESS_KEY,
  }
  const r = await restic(repo, PASSWORD, ['--cacert', server.caFile, ...args], { env })
  if (r.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/** Coffer and restic both read every byte of the repository and find nothing wrong. */
async function checksClean(direct: string): Promise<void> {
  const be = await open(direct, false)
  try {
    const repo = await Repository.open({ backend: be, password: PASSWORD })
    const check = await checkRepository(repo, { readData: true })
    await repo.close()
    expect(check.findings.filter((f) => f.severity === 'error')).toEqual([])
  } finally {
    await be.close()
  }
  await resticOk(direct, ['check', '--read-data'])
}

// Seconds each on an idle machine; the bound leaves room for a shared, loaded one.
describe(
  'S3 through a lossy network (a fault proxy in front of s3rver)',
  { timeout: 180_000 },
  () => {
    it('backs up, checks, forgets and prunes through drops, delays, 5xx and cut bodies', async () => {
      const { lossy, direct } = locations('mixed')
      const be = await open(lossy)
      const before = { ...proxy.stats }
      let last: SnapshotId
      try {
        proxy.setFaults({ rate: 0.25, delayMs: 20 })
        const repo = await Repository.init({ backend: be, password: PASSWORD, kdf: TEST_KDF })
        await backup(repo, 0)
        last = await backup(repo, 1)
        // Every pack read back whole through the same network: cut bodies must not pass.
        const check = await checkRepository(repo, { readData: true })
        expect(check.errors).toBe(0)
        await forget(repo, { policy: { last: 1 } })
        await prune(repo, { maxUnusedPercent: 0 })
        await repo.close()
      } finally {
        proxy.setFaults({ rate: 0 })
        await be.close()
      }
      for (const kind of [
        'reset',
        'lost-answer',
        'error-500',
        'slow-down-503',
        'truncate',
      ] as const) {
        expect(proxy.stats[kind], kind).toBeGreaterThan(before[kind])
      }
      await checksClean(direct)
      const snaps = JSON.parse(await resticOk(direct, ['snapshots', '--json'])) as { id: string }[]
      expect(snaps.map((s) => s.id)).toEqual([last])
      const target = join(tmp.path, 'restic-restore-mixed')
      await resticOk(direct, ['restore', 'latest', '--target', target])
      for (const [path, bytes] of files(1)) {
        expect((await readFile(join(target, path))).equals(bytes), path).toBe(true)
      }
    })

    it('fails cleanly with a clear message when the storage keeps failing', async () => {
      const { lossy } = locations('down')
      const be = await open(lossy, { ...INSTANT, maxAttempts: 3 })
      try {
        await be.create()
        proxy.setFaults({ rate: 1, kinds: ['error-500'] })
        const e = await be
          .save({ type: 'keys', name: 'ab'.repeat(32) }, Buffer.from('k'))
          .catch((x: unknown) => x)
        proxy.setFaults({ rate: 0 })
        expect(e).toBeInstanceOf(BackendError)
        expect((e as BackendError).message).toMatch(
          /^Cannot save keys\/(ab)+ in s3:https:\/\/127\.0\.0\.1:\d+\/down-[0-9a-f]+: the server answered HTTP 500 \(InternalError\) \(gave up after 3 attempts\)\.$/,
        )
        // A listing, retried page by page, gives up once too, not once per page attempt.
        proxy.setFaults({ rate: 1, kinds: ['slow-down-503'] })
        const requests = proxy.stats.requests
        const l = await (async () => {
          for await (const f of be.list('snapshots')) void f
        })().catch((x: unknown) => x)
        proxy.setFaults({ rate: 0 })
        expect((l as BackendError).message).toMatch(
          /HTTP 503 \(SlowDown\) \(gave up after 3 attempts\)\.$/,
        )
        expect(proxy.stats.requests - requests).toBe(3)
      } finally {
        proxy.setFaults({ rate: 0 })
        await be.close()
      }
    })

    it('never references what a failed backup half wrote', async () => {
      const { lossy, direct } = locations('half')
      const setup = await open(lossy)
      const ok: SnapshotId[] = []
      try {
        const repo = await Repository.init({ backend: setup, password: PASSWORD, kdf: TEST_KDF })
        ok.push(await backup(repo, 0, 0.5))
        await repo.close()
      } finally {
        await setup.close()
      }
      // No retries: each fault ends the backup wherever it happens to be.
      const be = await open(lossy, false)
      proxy.setFaults({ rate: 0.08, kinds: ['reset', 'error-500', 'truncate', 'lost-answer'] })
      let failed = 0
      try {
        for (let i = 10; i < 14; i++) {
          try {
            const repo = await Repository.open({ backend: be, password: PASSWORD })
            try {
              ok.push(await backup(repo, i, 0.5))
            } finally {
              await repo.close()
            }
          } catch (e) {
            failed++
            expect(e).toBeInstanceOf(BackendError)
            expect((e as BackendError).message).toMatch(
              /^Cannot .* in s3:https:\/\/127\.0\.0\.1:\d+\/half-[0-9a-f]+: .*\.$/,
            )
          }
        }
      } finally {
        proxy.setFaults({ rate: 0 })
        await be.close()
      }
      expect(failed).toBeGreaterThan(0)
      // A failed backup may not get to remove its lock: the operator's remedy, as with
      // restic, is unlock (the process is gone, so the lock is stale).
      const direct1 = await open(direct, false)
      try {
        const repo = await Repository.open({ backend: direct1, password: PASSWORD })
        await removeLocks(repo.store, { all: true })
        await repo.close()
      } finally {
        await direct1.close()
      }
      await checksClean(direct)
      // Every backup that reported success is there. A backup whose last answer was lost
      // (the snapshot stored, the client never told) may be there too, complete.
      const snaps = JSON.parse(await resticOk(direct, ['snapshots', '--json'])) as { id: string }[]
      const ids = snaps.map((s) => s.id)
      expect(ids).toEqual(expect.arrayContaining(ok))
      expect(ids.length).toBeLessThanOrEqual(ok.length + failed)
    })
  },
)

import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackendError } from '../../../src/errors.js'
import type { Backend, S3BackendOptions } from '../../../src/repo/backend/index.js'
import { S3Backend } from '../../../src/repo/backend/s3-backend.js'
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.js'
import { backendConformance } from './backend-suite.js'

let server: S3TestServer
beforeAll(async () => {
  server = await startS3Server('s3-backend')
})
afterAll(() => server.stop())

const id = (): string => randomBytes(32).toString('hex')

function open(label: string, opts: S3BackendOptions = {}, location?: string): S3Backend {
  return new S3Backend(location ?? server.freshLocation(label), {
    ...server.clientOptions,
    ...opts,
  })
}

backendConformance('S3 (s3rver over HTTPS)', async () => ({
  backend: open('conformance'),
  cleanup: async () => {},
}))

backendConformance('S3 under a prefix, multipart above 5 MiB', async () => ({
  backend: open(
    'prefixed',
    { multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024 },
    undefined,
  ),
  cleanup: async () => {},
}))

/** The keys s3rver holds in a bucket, read from its directory (not through S3). */
async function storedKeys(bucket: string): Promise<string[]> {
  const root = join(server.dataDir, bucket)
  const out: string[] = []
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await walk(join(dir, e.name), r)
      else if (e.name.endsWith('._S3rver_object')) out.push(r.slice(0, -'._S3rver_object'.length))
    }
  }
  await walk(root, '')
  return out.sort()
}

describe('S3Backend', () => {
  it("stores files under the prefix with restic's layout", async () => {
    const location = `${server.freshLocation('layout')}/some/prefix`
    const bucket = /\/([^/]+)\/some\/prefix$/.exec(location)![1]!
    const be = open('', {}, location)
    try {
      await be.create()
      const name = `ab${'0'.repeat(62)}`
      await be.save({ type: 'config', name: 'config' }, Buffer.from('c'))
      await be.save({ type: 'data', name }, Buffer.from('pack'))
      await be.save({ type: 'keys', name }, Buffer.from('key'))
      await be.save({ type: 'snapshots', name }, Buffer.from('snap'))
      expect(await storedKeys(bucket)).toEqual([
        'some/prefix/config',
        `some/prefix/data/ab/${name}`,
        `some/prefix/keys/${name}`,
        `some/prefix/snapshots/${name}`,
      ])
      expect(be.location).toBe(location)
    } finally {
      await be.close()
    }
  })

  it('uploads a large file in parts, verified, and reads ranges across part boundaries', async () => {
    const MiB = 1024 * 1024
    const be = open('multipart', {
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
      partConcurrency: 2,
    })
    try {
      await be.create()
      const parts = [randomBytes(3 * MiB), randomBytes(7 * MiB + 123), randomBytes(2 * MiB)]
      const all = Buffer.concat(parts)
      const h = { type: 'data' as const, name: id() }
      await be.save(h, parts)
      expect((await be.stat(h)).size).toBe(all.length)
      expect((await be.load(h)).equals(all)).toBe(true)
      const range = await be.load(h, { offset: 5 * MiB - 10, length: 20 })
      expect(range.equals(all.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true)
    } finally {
      await be.close()
    }
  })

  it('reads into the buffer the caller gives, of exactly the length asked for', async () => {
    const be = open('into')
    try {
      await be.create()
      const bytes = randomBytes(300 * 1024)
      const h = { type: 'data' as const, name: id() }
      await be.save(h, bytes)
      const mine = Buffer.alloc(bytes.length + 1000)
      const asked: number[] = []
      const got = await be.load(h, {
        into: (n) => {
          asked.push(n)
          return mine.subarray(0, n)
        },
      })
      expect(asked).toEqual([bytes.length])
      expect(got.buffer).toBe(mine.buffer)
      expect(got.equals(bytes)).toBe(true)
      const range = await be.load(h, { offset: 100, length: 50, into: (n) => Buffer.alloc(n) })
      expect(range.equals(bytes.subarray(100, 150))).toBe(true)
      await expect(be.load(h, { into: (n) => Buffer.alloc(n - 1) })).rejects.toThrow(
        `A buffer of ${bytes.length} bytes was asked for; ${bytes.length - 1} were given.`,
      )
    } finally {
      await be.close()
    }
  })

  it('leaves no object behind when a multipart upload is aborted', async () => {
    const MiB = 1024 * 1024
    const location = server.freshLocation('mp-abort')
    const be = open(
      '',
      { multipartThreshold: 5 * MiB, partSize: 5 * MiB, partConcurrency: 1 },
      location,
    )
    try {
      await be.create()
      const ac = new AbortController()
      const h = { type: 'data' as const, name: id() }
      const saving = be.save(h, randomBytes(20 * MiB), { signal: ac.signal })
      ac.abort(new Error('stop'))
      await expect(saving).rejects.toThrow('stop')
      const listed: string[] = []
      for await (const f of be.list('data')) listed.push(f.name)
      expect(listed).toEqual([])
    } finally {
      await be.close()
    }
  })

  it('lists across many pages, each file once', async () => {
    const be = open('pages', { listPageSize: 7 })
    try {
      await be.create()
      const names = Array.from({ length: 40 }, id)
      for (const name of names) await be.save({ type: 'index', name }, Buffer.from(name))
      // A file in another type's folder and a stray key must not show.
      await be.save({ type: 'snapshots', name: id() }, Buffer.from('s'))
      const listed: string[] = []
      for await (const f of be.list('index')) listed.push(f.name)
      expect(listed.sort()).toEqual(names.sort())
    } finally {
      await be.close()
    }
  })

  it('rejects, rather than stores, an upload the server keeps altered', async () => {
    // With the SDK's default checksums s3rver stores the streaming framing as data: the
    // ETag then differs from the MD5 sent and the size from the size sent.
    const be = open('altered', { requestChecksumCalculation: 'WHEN_SUPPORTED' })
    try {
      await be.create()
      const e = await be
        .save({ type: 'data', name: id() }, randomBytes(10_000))
        .catch((x: unknown) => x)
      expect(e).toBeInstanceOf(BackendError)
      expect((e as BackendError).permanent).toBe(false)
      expect((e as BackendError).message).toMatch(/does not verify/)
    } finally {
      await be.close()
    }
  })

  it('addresses the bucket virtual-host style when asked', async () => {
    const location = server.freshLocation('vhost', `https://s3.localhost:${server.port}`)
    const be = open(
      '',
      {
        bucketLookup: 'dns',
        resolve: { [`${location.split('/').at(-1)}.s3.localhost`]: '127.0.0.1' },
      },
      location,
    )
    const pathStyle = open(
      '',
      { bucketLookup: 'path', resolve: { 's3.localhost': '127.0.0.1' } },
      location,
    )
    try {
      await be.create()
      const h = { type: 'snapshots' as const, name: id() }
      await be.save(h, Buffer.from('virtual host'))
      // The same bucket through path-style requests: one server, one bucket.
      expect((await pathStyle.load(h)).toString()).toBe('virtual host')
    } finally {
      await be.close()
      await pathStyle.close()
    }
  })

  it('names the file and the location in errors, never the credentials', async () => {
    const be = open('denied', {
      credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'very-secret-value' },
    })
    try {
      const e = await be.load({ type: 'config', name: 'config' }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(BackendError)
      const err = e as BackendError
      expect(err.permanent).toBe(true)
      expect(err.message).toMatch(/^Cannot read config in s3:https:\/\/127\.0\.0\.1:\d+\/denied-/)
      expect(err.message).toMatch(/access denied/)
      expect(JSON.stringify({ message: err.message, be })).not.toMatch(/very-secret-value/)
    } finally {
      await be.close()
    }
  })

  it('reports an untrusted certificate as permanent, with what to do', async () => {
    const be = new S3Backend(server.freshLocation('untrusted'), {
      ...server.clientOptions,
      ca: undefined,
    })
    try {
      const e = await be.stat({ type: 'config', name: 'config' }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(BackendError)
      expect((e as BackendError).permanent).toBe(true)
      expect((e as BackendError).message).toMatch(/certificate is not trusted/)
    } finally {
      await be.close()
    }
  })

  it('refuses to create a repository where a config exists, also one restic-style', async () => {
    const location = server.freshLocation('exists')
    const a: Backend = open('', {}, location)
    const b: Backend = open('', {}, location)
    try {
      await a.create()
      await a.save({ type: 'config', name: 'config' }, Buffer.from('x'))
      const e = await b.create().catch((x: unknown) => x)
      expect((e as BackendError).code).toBe('repo_exists')
    } finally {
      await a.close()
      await b.close()
    }
  })
})

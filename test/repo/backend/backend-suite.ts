import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { BackendError } from '../../../src/errors.js'
import { isNotFound, type Backend, type FileType } from '../../../src/repo/index.js'

const id = (): string => randomBytes(32).toString('hex')

async function names(be: Backend, type: FileType): Promise<string[]> {
  const out: string[] = []
  for await (const f of be.list(type)) out.push(f.name)
  return out.sort()
}

/**
 * The Backend contract (src/repo/backend/backend.ts), run against every implementation:
 * each one calls this with a factory for a fresh, empty backend.
 */
export function backendConformance(
  name: string,
  make: () => Promise<{ backend: Backend; cleanup: () => Promise<void> }>,
): void {
  describe(`Backend contract: ${name}`, () => {
    const withBackend = (fn: (be: Backend) => Promise<void>) => async () => {
      const { backend, cleanup } = await make()
      try {
        await fn(backend)
      } finally {
        await backend.close()
        await cleanup()
      }
    }

    it(
      'creates a repository once, then refuses to create another',
      withBackend(async (be) => {
        await be.create()
        await be.save({ type: 'config', name: 'config' }, Buffer.from('cfg'))
        const e = await be.create().catch((x: unknown) => x)
        expect(e).toBeInstanceOf(BackendError)
        expect((e as BackendError).code).toBe('repo_exists')
      }),
    )

    it(
      'saves, stats, loads whole and ranged, lists and removes files of every type',
      withBackend(async (be) => {
        await be.create()
        const data = randomBytes(100_000)
        for (const type of ['keys', 'locks', 'snapshots', 'index', 'data'] as const) {
          const name = id()
          await be.save({ type, name }, data)
          expect((await be.stat({ type, name })).size).toBe(data.length)
          expect((await be.load({ type, name })).equals(data)).toBe(true)
          expect(
            (await be.load({ type, name }, { offset: 1000, length: 5000 })).equals(
              data.subarray(1000, 6000),
            ),
          ).toBe(true)
          expect(
            (await be.load({ type, name }, { offset: 99_000 })).equals(data.subarray(99_000)),
          ).toBe(true)
          expect(await names(be, type)).toEqual([name])
          await be.remove({ type, name })
          expect(await names(be, type)).toEqual([])
        }
      }),
    )

    it(
      'saves a file given in parts as their concatenation',
      withBackend(async (be) => {
        await be.create()
        const parts = [randomBytes(10), randomBytes(0), randomBytes(70_000)]
        const name = id()
        await be.save({ type: 'data', name }, parts)
        expect((await be.load({ type: 'data', name })).equals(Buffer.concat(parts))).toBe(true)
        // More parts than one writev(2) takes (1,024), some of them views into a larger buffer.
        const backing = randomBytes(3000 * 40)
        const many = Array.from({ length: 3000 }, (_, i) =>
          i % 7 === 0 ? randomBytes(i % 50) : backing.subarray(i * 40, i * 40 + (i % 40)),
        )
        const other = id()
        await be.save({ type: 'data', name: other }, many)
        expect((await be.load({ type: 'data', name: other })).equals(Buffer.concat(many))).toBe(
          true,
        )
      }),
    )

    it(
      'reports a missing file as not found, and removing it is not an error',
      withBackend(async (be) => {
        await be.create()
        const h = { type: 'snapshots' as const, name: id() }
        expect(isNotFound(await be.load(h).catch((e: unknown) => e))).toBe(true)
        expect(isNotFound(await be.stat(h).catch((e: unknown) => e))).toBe(true)
        await be.remove(h)
      }),
    )

    it(
      'refuses a range beyond the end of a file instead of returning fewer bytes',
      withBackend(async (be) => {
        await be.create()
        const h = { type: 'data' as const, name: id() }
        await be.save(h, randomBytes(100))
        await expect(be.load(h, { offset: 50, length: 100 })).rejects.toBeInstanceOf(BackendError)
      }),
    )

    it(
      'lists many files, each once, with their sizes',
      withBackend(async (be) => {
        await be.create()
        const saved = new Map<string, number>()
        for (let i = 0; i < 300; i++) {
          const name = id()
          const size = i % 7
          saved.set(name, size)
          await be.save({ type: 'data', name }, randomBytes(size))
        }
        const listed = new Map<string, number>()
        for await (const f of be.list('data')) {
          expect(listed.has(f.name)).toBe(false)
          listed.set(f.name, f.size)
        }
        expect(listed).toEqual(saved)
      }),
    )

    it(
      'honours an aborted signal and leaves no file behind',
      withBackend(async (be) => {
        await be.create()
        const ac = new AbortController()
        ac.abort(new Error('stop'))
        const h = { type: 'data' as const, name: id() }
        await expect(be.save(h, randomBytes(10), { signal: ac.signal })).rejects.toThrow('stop')
        expect(await names(be, 'data')).toEqual([])
      }),
    )
  })
}

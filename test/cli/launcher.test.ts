import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const exec = promisify(execFile)
const root = new URL('../../', import.meta.url)
const firstLine = async (path: string): Promise<string> =>
  (await readFile(new URL(path, root), 'utf8')).split('\n')[0]!

/**
 * bin/coffer's first line sets glibc's allocator options (docs/OPERATIONS.md, "Memory").
 * A script with the same first line, run as bin/coffer is (by the kernel, through env -S),
 * prints what its process got.
 */
describe('the launcher line of bin/coffer', () => {
  let dir: string
  let script: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-launcher-'))
    script = join(dir, 'print-tunables.mjs')
    await writeFile(
      script,
      `${await firstLine('bin/coffer')}\nconsole.log(JSON.stringify(process.env.GLIBC_TUNABLES ?? null))\n`,
    )
    await chmod(script, 0o755)
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  const run = async (env: NodeJS.ProcessEnv): Promise<unknown> =>
    JSON.parse((await exec(script, [], { env })).stdout) as unknown

  it('asks for transparent huge pages and a fixed 1 MiB mmap threshold', async () => {
    const { GLIBC_TUNABLES: _ignored, ...env } = process.env
    expect(await run(env)).toBe('glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576:')
  })

  it("puts the caller's own tunables after its own, so that they win", async () => {
    expect(await run({ ...process.env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })).toBe(
      'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576:glibc.malloc.hugetlb=0',
    )
  })

  it('is the line the benchmarks start their environment steps with', async () => {
    expect(await firstLine('bench/lib/env-step.mjs')).toBe(await firstLine('bin/coffer'))
  })
})

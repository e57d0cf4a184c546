import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeTree, diffTrees, type Entry } from '../helpers/dir-snapshot.js'
import { restic } from '../helpers/restic.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'crash'
const env = { COFFER_PASSWORD: PASSWORD }
const ENTRY = fileURLToPath(new URL('../../src/cli/entry.ts', import.meta.url))
const TRIALS = 20

/** Starts coffer, kills it with SIGKILL after `ms`, resolves with whether it had finished. */
function runAndKill(args: string[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve(code === 0)
    })
  })
}

// Local only: it proves on-disk saves are atomic under kill -9 (temporary file, fsync, rename).
describe('kill -9 at random moments never damages the repository', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: string
  let src: string
  /** Snapshot ID → what its source looked like. */
  const expected = new Map<string, Entry[]>()
  let seed = 0

  async function changeSource(): Promise<void> {
    seed++
    for (let i = 0; i < 6; i++)
      await writeFile(
        join(src, `file-${i}.bin`),
        seededBytes(`s${seed}-${i}`, 3 * 1024 * 1024 + i * 7919),
      )
    await writeFile(join(src, 'small', `note-${seed}.txt`), `trial ${seed}\n`)
  }

  async function latestId(): Promise<string> {
    const r = await runCoffer(['repo:snapshots', '--repo', repo, '--json'], { env })
    return (JSON.parse(r.stdout) as { id: string }[]).at(-1)!.id
  }

  async function assertHealthy(): Promise<void> {
    // restic 0.14 does not skip stale locks; `restic unlock` removes them (those of dead
    // processes on this host), as an operator would after a crash.
    expect((await restic(repo, PASSWORD, ['unlock'])).code).toBe(0)
    const theirs = await restic(repo, PASSWORD, ['check'])
    expect(theirs.code, theirs.stderr).toBe(0)
    const ours = await runCoffer(['repo:check', '--repo', repo], { env })
    expect(ours.code, ours.stdout + ours.stderr).toBe(0)
  }

  async function assertRestorable(): Promise<void> {
    const r = await runCoffer(['repo:snapshots', '--repo', repo, '--json'], { env })
    for (const s of JSON.parse(r.stdout) as { id: string }[]) {
      const want = expected.get(s.id)
      if (!want) continue
      const target = join(
        tmp.path,
        `restore-${s.id.slice(0, 8)}-${Math.random().toString(36).slice(2)}`,
      )
      const res = await runCoffer(['repo:restore', '--repo', repo, s.id, '--target', target], {
        env,
      })
      expect(res.code, res.stderr).toBe(0)
      expect(diffTrees(await describeTree(join(target, src), { mtimes: false }), want)).toEqual([])
    }
  }

  beforeAll(async () => {
    tmp = await makeTempDir('crash')
    repo = join(tmp.path, 'repo')
    src = join(tmp.path, 'src')
    await mkdir(join(src, 'small'), { recursive: true })
    expect(
      (await runCoffer(['repo:init', '--repo', repo, '--kdf', '1024,8,1'], { env })).code,
    ).toBe(0)
    await changeSource()
    expect((await runCoffer(['repo:backup', '--repo', repo, src], { env })).code).toBe(0)
    expected.set(await latestId(), await describeTree(src, { mtimes: false }))
  })
  afterAll(() => tmp.cleanup())

  it(`survives ${TRIALS} kills of repo:backup`, { timeout: 900_000 }, async () => {
    for (let t = 0; t < TRIALS; t++) {
      await changeSource()
      const finished = await runAndKill(
        ['repo:backup', '--repo', repo, src],
        300 + Math.floor(Math.random() * 2500),
      )
      if (finished) expected.set(await latestId(), await describeTree(src, { mtimes: false }))
      await assertHealthy()
    }
    await assertRestorable()
  })

  it(`survives ${TRIALS} kills of repo:prune`, { timeout: 900_000 }, async () => {
    for (let t = 0; t < TRIALS; t++) {
      // Something to prune: one more snapshot, then forget an older one.
      await changeSource()
      expect((await runCoffer(['repo:backup', '--repo', repo, src], { env })).code).toBe(0)
      expected.set(await latestId(), await describeTree(src, { mtimes: false }))
      await runCoffer(['repo:unlock', '--repo', repo], { env })
      const f = await runCoffer(['repo:forget', '--repo', repo, '--keep-last', '3'], { env })
      expect(f.code, f.stderr).toBe(0)
      await runAndKill(
        ['repo:prune', '--repo', repo, '--max-unused', '0'],
        200 + Math.floor(Math.random() * 2000),
      )
      await assertHealthy()
    }
    await assertRestorable()
    // What killed backups left unfinished in the spool, a whole prune removes.
    const p = await runCoffer(['repo:prune', '--repo', repo], { env })
    expect(p.code, p.stderr).toBe(0)
    expect(await readdir(join(repo, 'tmp'))).toEqual([])
    await assertHealthy()
  })
})

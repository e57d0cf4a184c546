import { execFileSync, spawn } from 'node:child_process'
import { appendFile, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recoverStagedRestore, withMountLock } from '../../../src/capture/index.js'
import { silentLogger } from '../../../src/lib/index.js'
import { describeTree, diffTrees, type Entry } from '../../helpers/dir-snapshot.js'
import { createRepo, snapshotMount, type MountSnapshot } from '../../helpers/mount-repo.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const CHILD = fileURLToPath(new URL('./restore-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SLACK = { mtimeSlackUs: 1n }
const isWork = (p: string): boolean => p.startsWith('.coffer-')

/**
 * Runs the restore child, answering each progress step, and kills it with SIGKILL right
 * after it printed step number `killAt` (1-based; never when undefined). Returns the steps
 * it printed.
 */
function runChild(args: readonly string[], killAt: number | undefined): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const steps: string[] = []
    let buffered = ''
    let err = ''
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.stdout.on('data', (b: Buffer) => {
      buffered += b.toString()
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (line === 'done') continue
        steps.push(line)
        if (steps.length === killAt) child.kill('SIGKILL')
        else child.stdin.write('g')
      }
    })
    child.stdin.on('error', () => undefined)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (killAt !== undefined && signal === 'SIGKILL') return resolve(steps)
      if (code === 0 && killAt === undefined) return resolve(steps)
      reject(new Error(`restore child ended with ${code ?? signal}: ${err}`))
    })
  })
}

/** The mount as a running site left it, different from the snapshot in every way. */
async function writeOld(dir: string): Promise<void> {
  await mkdir(join(dir, 'img/a'), { recursive: true })
  for (let i = 0; i < 12; i++)
    await writeFile(join(dir, `img/a/${i}.jpg`), seededBytes(`${i}`, 4096))
  await writeFile(join(dir, 'img/a/3.jpg'), seededBytes('old 3', 4096))
  await appendFile(join(dir, 'img/a/4.jpg'), 'old')
  await rm(join(dir, 'img/a/5.jpg'))
  await writeFile(join(dir, 'img/a/only-old.jpg'), 'only in the old mount')
  await mkdir(join(dir, 'cache/x'), { recursive: true })
  await writeFile(join(dir, 'cache/x/c'), 'cache')
  await writeFile(join(dir, 'etc'), 'a file where the snapshot has a directory')
}

async function writeNew(dir: string): Promise<void> {
  await mkdir(join(dir, 'img/a'), { recursive: true })
  for (let i = 0; i < 12; i++)
    await writeFile(join(dir, `img/a/${i}.jpg`), seededBytes(`${i}`, 4096))
  await mkdir(join(dir, 'etc/empty'), { recursive: true })
  await writeFile(join(dir, 'etc/env.php'), '<?php\n')
  await symlink('env.php', join(dir, 'etc/env.link.php'))
}

describe('kill -9 during a staged restore', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let shot: MountSnapshot
  let oldTree: Entry[]
  let newTree: Entry[]
  let pristine: string

  beforeAll(async () => {
    tmp = await makeTempDir('files-restore-kill')
    const src = join(tmp.path, 'src')
    await writeNew(src)
    const repo = await createRepo(tmp.path)
    shot = await snapshotMount(repo, src)
    newTree = await describeTree(src)
    pristine = join(tmp.path, 'old')
    await writeOld(pristine)
    oldTree = await describeTree(pristine)
  })
  afterAll(() => tmp.cleanup())

  /** A fresh copy of the old mount at a new path. */
  async function oldMount(label: string): Promise<string> {
    await mkdir(join(tmp.path, label))
    const target = join(tmp.path, label, 'media')
    execFileSync('cp', ['-a', pristine, target])
    return target
  }

  const is = (actual: Entry[], expected: Entry[]): boolean =>
    diffTrees(actual, expected, { ...SLACK, ignore: isWork }).length === 0

  it.each(['whole', 'per-file'] as const)(
    'leaves the mount exactly old or exactly new, whatever the step (%s switch)',
    async (mode) => {
      const args = (target: string): string[] => [
        join(tmp.path, 'repo'),
        shot.snap.id,
        target,
        mode,
      ]
      const full = await oldMount(`${mode}-full`)
      const steps = await runChild(args(full), undefined)
      expect(diffTrees(await describeTree(full), newTree, SLACK)).toEqual([])
      const stage = steps.filter((s) => s.startsWith('stage')).length
      const sw = steps.filter((s) => s.startsWith('switch')).length
      expect(stage).toBeGreaterThan(3)
      expect(sw).toBeGreaterThanOrEqual(3)
      // Early, middle and last steps of staging and of the switch, and the cleanup.
      const points = [
        ...new Set([
          1,
          Math.ceil(stage / 2),
          stage,
          stage + 1,
          stage + Math.ceil(sw / 2),
          stage + sw,
          steps.length,
        ]),
      ]
      const outcomes: string[] = []
      for (const k of points) {
        const target = await oldMount(`${mode}-kill-${k}`)
        const printed = await runChild(args(target), k)
        const phase = printed.at(-1)!.split(' ')[0]
        if (phase === 'stage') {
          // Before the switch the mount's content is untouched (a per-file work area aside).
          expect(is(await describeTree(target), oldTree), `killed at ${printed.at(-1)}`).toBe(true)
        }
        // As the next restore or the control plane's cleanup does: under the mount's lock,
        // which the killed child left naming a process that is gone.
        const recovered = await withMountLock(target, silentLogger, () =>
          recoverStagedRestore(target),
        )
        const now = await describeTree(target)
        expect(now.filter((e) => isWork(e.path))).toEqual([])
        expect((await readdir(join(target, '..'))).filter(isWork)).toEqual([])
        const old = is(now, oldTree)
        const fresh = is(now, newTree)
        expect(
          old || fresh,
          `killed at ${printed.at(-1)}: ${diffTrees(now, newTree, SLACK).join('; ')}`,
        ).toBe(true)
        if (phase === 'stage') expect(old).toBe(true)
        else expect(fresh).toBe(true)
        outcomes.push(
          `${printed.at(-1)} → ${old ? 'old' : 'new'} (${recovered.map((r) => r.outcome).join(',') || 'nothing to recover'})`,
        )
      }
      expect(outcomes.length).toBeGreaterThanOrEqual(6)
    },
    300_000,
  )

  it('finishes, through the link, a whole switch killed between its renames of a linked mount', async () => {
    // The mount's path is a link into a shared directory (mount-directory.ts): killed after
    // the shared directory was moved aside, the link leads nowhere until the recovery.
    const shared = await oldMount('linked-shared')
    await mkdir(join(tmp.path, 'linked-release'))
    const link = join(tmp.path, 'linked-release', 'media')
    await symlink(shared, link)
    const args = [join(tmp.path, 'repo'), shot.snap.id, link, 'whole']
    const probe = await oldMount('linked-probe')
    const steps = await runChild([...args.slice(0, 2), probe, 'whole'], undefined)
    const firstRename = steps.findIndex((s) => s.startsWith('switch')) + 2
    expect(steps[firstRename - 1]).toMatch(/^switch 2\//)
    await runChild(args, firstRename)
    const recovered = await withMountLock(link, silentLogger, () => recoverStagedRestore(link))
    expect(recovered.map((r) => r.outcome)).toEqual(['completed'])
    expect(diffTrees(await describeTree(shared), newTree, SLACK)).toEqual([])
    expect((await readdir(join(shared, '..'))).filter(isWork)).toEqual([])
  }, 120_000)
})

import { spawn } from 'node:child_process'
import { cp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { changeOnePercent } from './lib/files-change.js'
import { ensureMountsDataset } from './lib/mounts-dataset.js'
import { COFFER_CLI, printTable, ratio, settleDisk } from './lib/measure.js'

/** Wall time, CPU time (user + system) and peak RSS of one command. */
interface Measured {
  readonly seconds: number
  readonly cpuSeconds: number
  readonly maxRssMb: number
  readonly stdout: string
}

/**
 * Runs a command under /usr/bin/time, after `settleDisk`. CPU seconds are reported beside
 * wall seconds: on a shared machine CPU time is the steadier figure (another process's load
 * stretches wall time, not CPU time).
 */
function measure(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Measured> {
  settleDisk()
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000
      const [user, sys, kb] = (err.trim().split('\n').at(-1) ?? '').split(' ').map(Number)
      if (code !== 0)
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))
      else
        resolve({
          seconds,
          cpuSeconds: (user ?? 0) + (sys ?? 0),
          maxRssMb: Math.round((kb ?? 0) / 1024),
          stdout: out,
        })
    })
  })
}

/**
 * `npm run bench -- files [--scale S]`: the files driver against restic and `cp -a` on the
 * mounts data set, same machine, same run: first capture, unchanged capture, capture after
 * 1 % of the images changed, full restore into an empty directory, delta restore of a mount
 * where 1 % of the images changed. Wall time and peak RSS, with Coffer/restic ratios.
 * Coffer runs the built CLI (npm run build first); its restores are the staged, switched
 * ones (`repo:restore --delta`). restic 0.14 has no delta restore: it rewrites every file.
 * The full and delta restores are then measured again in one long-lived process
 * (bench/lib/files-step.mjs), as the server restores an environment's mounts: a fresh `coffer`
 * process pays its start-up, the key's derivation and a cold JIT on every run.
 */
export async function run(args: string[]): Promise<void> {
  const at = args.indexOf('--scale')
  const scale = (at >= 0 ? Number(args[at + 1]) : 1) || 1
  const base = process.env.COFFER_BENCH_DIR ?? join(tmpdir(), 'coffer-bench')
  process.stdout.write(`data set: mounts, scale ${scale}, under ${base}\n`)
  const pristine = await ensureMountsDataset(join(base, `mounts-${scale}`), scale)
  const work = join(base, 'files-bench')
  await rm(work, { recursive: true, force: true })
  // A working copy: the 1 % change must not alter the reusable data set.
  const data = join(work, 'mount')
  await cp(pristine, data, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
  const password = 'bench'
  // `cp -a`'s copies stay until the end: removing 15,000 files minutes before a restore made
  // the restore's every new inode pass over the deleted ones (ext4 does not reuse an inode
  // deleted in the last 60 s, 360 s while its table block is dirty, and checks each one it
  // passes: `recently_deleted` in perf), which cost the restore run first up to 3 s of system
  // time (docs/BENCHMARKS.md, files section).
  const coffer = (a: string[]): Promise<Measured> =>
    measure(COFFER_CLI, [...a, '--repo', join(work, 'coffer')], {
      COFFER_PASSWORD: password,
    })
  const restic = (a: string[]): Promise<Measured> =>
    measure('restic', ['--no-cache', '-r', join(work, 'restic'), ...a], {
      RESTIC_PASSWORD: password,
    })
  const cpA = (from: string, to: string): Promise<Measured> => measure('cp', ['-a', from, to])
  const startup = await measure(COFFER_CLI, ['help'])
  process.stdout.write(
    `coffer start-up (bin/coffer help): ${startup.seconds.toFixed(2)} s (${startup.cpuSeconds.toFixed(2)} cpu)\n`,
  )

  await coffer(['repo:init'])
  await restic(['init', '--repository-version', '2'])
  const rows: string[][] = []
  const step = async (
    name: string,
    c: () => Promise<Measured>,
    r: () => Promise<Measured>,
    p?: () => Promise<Measured>,
  ): Promise<Measured> => {
    const rr = await r()
    const cc = await c()
    const pp = p ? await p() : undefined
    const t = (m: Measured): string => `${m.seconds.toFixed(2)} (${m.cpuSeconds.toFixed(2)})`
    rows.push([
      name,
      t(cc),
      t(rr),
      ratio(cc.seconds, rr.seconds),
      ratio(cc.cpuSeconds, rr.cpuSeconds),
      pp ? t(pp) : '-',
      String(cc.maxRssMb),
      String(rr.maxRssMb),
    ])
    process.stdout.write(
      `${name}: coffer ${t(cc)} s, restic ${t(rr)} s${pp ? `, cp -a ${t(pp)} s` : ''} (wall (cpu))\n`,
    )
    return cc
  }
  const snapshotOf = async (): Promise<string> => {
    const out = await measure(
      COFFER_CLI,
      ['repo:snapshots', '--json', '--repo', join(work, 'coffer')],
      { COFFER_PASSWORD: password },
    )
    const list = JSON.parse(out.stdout) as { id: string }[]
    return list.at(-1)!.id
  }

  await step(
    'first capture',
    () => coffer(['repo:backup', data]),
    () => restic(['backup', data]),
    () => cpA(data, join(work, 'cp-first')),
  )
  await step(
    'unchanged capture',
    () => coffer(['repo:backup', data]),
    () => restic(['backup', data]),
  )
  const changed = await changeOnePercent(data, scale, 'capture')
  await step(
    `capture after 1 % changed (${changed} files)`,
    () => coffer(['repo:backup', data]),
    () => restic(['backup', data]),
  )
  const id = await snapshotOf()
  const cofferTarget = join(work, 'coffer-restore')
  const resticTarget = join(work, 'restic-restore')
  const full = await step(
    'full restore (empty target)',
    () => coffer(['repo:restore', `${id}:${data}`, '--target', cofferTarget, '--delta']),
    () => restic(['restore', 'latest', '--target', resticTarget]),
    () => cpA(data, join(work, 'cp-restore')),
  )
  // The site changes 1 % of its images after the snapshot; the restore puts them back.
  await changeOnePercent(cofferTarget, scale, 'site')
  await changeOnePercent(join(resticTarget, data), scale, 'site')
  // restic 0.14 fails on a symlink that exists already: leave it that one to write.
  await rm(join(resticTarget, data, 'app/etc/env.link.php'), { force: true })
  const delta = await step(
    'delta restore (1 % changed)',
    () => coffer(['repo:restore', `${id}:${data}`, '--target', cofferTarget, '--delta']),
    () => restic(['restore', 'latest', '--target', resticTarget]),
  )
  // The same again, switched file by file (how a mount point is restored): only the changed
  // entries are renamed, where the whole-mount switch links every kept file into a new tree.
  await changeOnePercent(cofferTarget, scale, 'site again')
  const perFile = await coffer([
    'repo:restore',
    `${id}:${data}`,
    '--target',
    cofferTarget,
    '--delta',
    '--switch',
    'per-file',
  ])
  rows.push([
    'delta restore, per-file switch',
    `${perFile.seconds.toFixed(2)} (${perFile.cpuSeconds.toFixed(2)})`,
    '-',
    '-',
    '-',
    '-',
    String(perFile.maxRssMb),
    '-',
  ])
  // The same restores in one long-lived process, as the server runs an environment's mounts.
  const warm = await measure('bench/lib/files-step.mjs', [
    JSON.stringify({
      repo: join(work, 'coffer'),
      password,
      snapshot: id,
      sub: data,
      target: join(work, 'warm-restore'),
      scale,
      rounds: 3,
      change: [process.execPath, '--import', 'tsx', 'bench/lib/files-change-step.ts'],
    }),
  ])
  const w = JSON.parse(warm.stdout.trim().split('\n').at(-1) ?? '{}') as WarmReport
  const median = (xs: { seconds: number }[]): number =>
    xs.map((x) => x.seconds).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const warmPerFile = median(w.deltas['per-file'])
  const warmWhole = median(w.deltas.whole)
  const only = (name: string, seconds: number): string[] => [
    name,
    seconds.toFixed(2),
    '-',
    '-',
    '-',
    '-',
    String(warm.maxRssMb),
    '-',
  ]
  rows.push(
    only('full restore, one process (as the server)', w.full.seconds),
    only('delta restore, warm process, whole switch', warmWhole),
    only('delta restore, warm process, per-file switch', warmPerFile),
  )
  printTable(
    [
      'step',
      'coffer s (cpu)',
      'restic s (cpu)',
      'wall ratio',
      'cpu ratio',
      'cp -a s (cpu)',
      'coffer MB',
      'restic MB',
    ],
    rows,
  )
  process.stdout.write(
    `delta restore / full restore (coffer): whole switch wall ${ratio(delta.seconds, full.seconds)}, cpu ${ratio(delta.cpuSeconds, full.cpuSeconds)}; per-file switch wall ${ratio(perFile.seconds, full.seconds)}, cpu ${ratio(perFile.cpuSeconds, full.cpuSeconds)}\n`,
  )
  process.stdout.write(
    `warm process (as the server; medians of ${w.deltas.whole.length} rounds, without Node's start-up): delta / full restore whole switch ${ratio(warmWhole, w.full.seconds)}, per-file switch ${ratio(warmPerFile, w.full.seconds)}\n`,
  )
  await rm(work, { recursive: true, force: true })
}

/** What bench/lib/files-step.mjs prints. */
interface WarmReport {
  readonly full: { seconds: number }
  readonly deltas: Record<'per-file' | 'whole', { seconds: number }[]>
}

import { readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureMountsDataset } from './lib/mounts-dataset.js'
import { COFFER_CLI, measure, printTable, ratio, type Measured } from './lib/measure.js'

/**
 * `npm run bench -- repo [--scale S]`: the repository engine against restic on the mounts
 * data set, same machine, same run: first backup, unchanged backup, backup after 1 % of the
 * files changed, restore, check --read-data; wall time and peak RSS, with Coffer/restic
 * ratios. Coffer runs the built CLI (npm run build first).
 */
export async function run(args: string[]): Promise<void> {
  const scale = Number(args[args.indexOf('--scale') + 1] ?? 1) || 1
  const base = process.env.COFFER_BENCH_DIR ?? join(tmpdir(), 'coffer-bench')
  process.stdout.write(`data set: mounts, scale ${scale}, under ${base}\n`)
  const data = await ensureMountsDataset(join(base, `mounts-${scale}`), scale)
  const work = join(base, 'repo-bench')
  await rm(work, { recursive: true, force: true })
  const password = 'bench'
  const coffer = (a: string[]): Promise<Measured> =>
    measure(COFFER_CLI, [...a, '--repo', join(work, 'coffer')], {
      COFFER_PASSWORD: password,
    })
  const restic = (a: string[], cwd?: string): Promise<Measured> =>
    measure(
      'restic',
      ['--no-cache', '-r', join(work, 'restic'), ...a],
      { RESTIC_PASSWORD: password },
      cwd,
    )

  await coffer(['repo:init'])
  await restic(['init', '--repository-version', '2'])
  const rows: string[][] = []
  const step = async (
    name: string,
    c: () => Promise<Measured>,
    r: () => Promise<Measured>,
  ): Promise<void> => {
    // Drop the page cache influence symmetrically: each tool reads warm data (the data set
    // was just written or read); order alternates so neither always goes first.
    const rr = await r()
    const cc = await c()
    rows.push([
      name,
      cc.seconds.toFixed(2),
      rr.seconds.toFixed(2),
      ratio(cc.seconds, rr.seconds),
      String(cc.maxRssMb),
      String(rr.maxRssMb),
    ])
    process.stdout.write(
      `${name}: coffer ${cc.seconds.toFixed(2)} s, restic ${rr.seconds.toFixed(2)} s\n`,
    )
  }
  await step(
    'first backup',
    () => coffer(['repo:backup', data]),
    () => restic(['backup', data]),
  )
  await step(
    'unchanged backup',
    () => coffer(['repo:backup', data]),
    () => restic(['backup', data]),
  )
  // Change 1 % of the images (new content, same names).
  const dir = join(data, 'pub/media/catalog/product/0/0')
  const names = (await readdir(dir)).slice(0, Math.max(1, Math.round(150 * scale)))
  let n = 0
  for (const d1 of '0123456789abcdef') {
    for (const d2 of '0123456789abcdef') {
      for (const f of (await readdir(join(data, 'pub/media/catalog/product', d1, d2))).slice(
        0,
        1,
      )) {
        if (n++ >= 150 * scale) break
        await writeFile(
          join(data, 'pub/media/catalog/product', d1, d2, f),
          Buffer.from(`changed ${Date.now()} ${f}`.repeat(2000)),
        )
      }
    }
  }
  void names
  await step(
    'backup after 1 % changed',
    () => coffer(['repo:backup', data]),
    () => restic(['backup', data]),
  )
  await step(
    'restore',
    () => coffer(['repo:restore', 'latest', '--target', join(work, 'coffer-restore')]),
    () => restic(['restore', 'latest', '--target', join(work, 'restic-restore')]),
  )
  await step(
    'check --read-data',
    () => coffer(['repo:check', '--read-data']),
    () => restic(['check', '--read-data']),
  )
  printTable(['step', 'coffer s', 'restic s', 'ratio', 'coffer MB', 'restic MB'], rows)
  await rm(work, { recursive: true, force: true })
}

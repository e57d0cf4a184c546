import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startS3Server } from '../test/helpers/s3-server.js'
import { ensureMountsDataset } from './lib/mounts-dataset.js'
import { COFFER_CLI, measure, printTable, ratio, type Measured } from './lib/measure.js'

/**
 * `npm run bench -- s3 [--scale S]`: Coffer against restic on the same local S3 server
 * (s3rver over HTTPS on loopback, in a process of its own), same data set (the mounts set of
 * ../shared/bench/README.md, scaled), same run: first backup, unchanged backup, restore,
 * check --read-data; wall time and peak RSS, with Coffer/restic ratios (target ≤ 1.3).
 * Both tools use 5 connections (their default). Coffer runs the built CLI (npm run build
 * first, or set COFFER_BENCH_CLI to another entry file).
 *
 * s3rver, written in JavaScript and storing each object in files with an MD5 pass, is slow
 * next to real object storage; both tools pay that in full, so the ratio, not the seconds,
 * is the figure to quote.
 */
export async function run(args: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const scale = Number(arg('--scale') ?? 1) || 1
  const base = process.env.COFFER_BENCH_DIR ?? join(tmpdir(), 'coffer-bench')
  const cli = process.env.COFFER_BENCH_CLI ?? COFFER_CLI
  process.stdout.write(`data set: mounts, scale ${scale}, under ${base}\n`)
  const data = await ensureMountsDataset(join(base, `mounts-${scale}`), scale)
  const work = join(base, 's3-bench')
  await rm(work, { recursive: true, force: true })
  const server = await startS3Server('bench')
  try {
    const password = 'bench'
    // WHEN_REQUIRED: s3rver's quirk with streamed checksum trailers (docs/S3.md); restic
    // sends no such trailers. Credentials and CA reach both tools the same way.
    const env = { ...server.env }
    const cofferRepo = server.freshLocation('coffer')
    const resticRepo = server.freshLocation('restic')
    const coffer = (a: string[]): Promise<Measured> =>
      measure(cli, [...a, '--repo', cofferRepo], {
        ...env,
        COFFER_PASSWORD: password,
      })
    const restic = (a: string[]): Promise<Measured> =>
      measure('restic', ['--no-cache', '--cacert', server.caFile, '-r', resticRepo, ...a], {
        AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID!,
        AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY!,
        RESTIC_PASSWORD: password,
      })

    await coffer(['repo:init'])
    await restic(['init', '--repository-version', '2'])
    const rows: string[][] = []
    const step = async (
      name: string,
      c: () => Promise<Measured>,
      r: () => Promise<Measured>,
    ): Promise<void> => {
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
  } finally {
    await server.stop()
    await rm(work, { recursive: true, force: true })
  }
}

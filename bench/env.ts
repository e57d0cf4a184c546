import { execFile } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  measure,
  printTable,
  ratio,
  settleBeforeEachCommand,
  type Measured,
} from './lib/measure.js'
import { connectServer } from './lib/server-session.js'
import { settleServer } from './lib/server-settle.js'
import { envStepRunner } from './lib/env-step-runner.js'
import { changeFiles, type EnvChange } from './lib/env-change.js'
import { ensureMountsDataset } from './lib/mounts-dataset.js'
import { changeShopRows, ensureShopDatabase, shopDatabaseName } from './lib/shop-dataset.js'

const run = promisify(execFile)

/**
 * `npm run bench -- env [--scale S]`: a whole environment — the shop database and the mounts
 * data set of ../shared/bench/README.md together — snapshotted and restored by Coffer's
 * environment layer, against the best peer steps an administrator would script, same run:
 * `mydumper -t 2 -c` + `restic backup` of the dump and the mounts for a capture,
 * `restic restore` + `myloader -t 2` for a restore. Coffer runs each step in its own process
 * (bench/lib/env-step.mjs); its time is the step's own, without Node's start-up, and its
 * pause (writes held) is reported as recorded in the snapshot. The delta restore is measured
 * twice: in a fresh process (as `coffer` run by hand pays for it) and in a process that has
 * restored before (as the server, which runs every activity in one long-lived process).
 */
export async function runBench(args: string[]): Promise<void> {
  const at = args.indexOf('--scale')
  const scale = at >= 0 ? Number(args[at + 1]) : 1
  if (!(scale > 0)) throw new Error('--scale must be a positive number')
  const server = new URL(process.env.COFFER_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306')
  const base = process.env.COFFER_BENCH_DIR ?? join(tmpdir(), 'coffer-bench')
  const work = join(base, 'env-bench')
  const db = shopDatabaseName(scale)
  const target = `${db}_r_env`
  const session = await connectServer(server)
  // Each measured command starts once the server has written back the previous one's rows.
  const unsettle = settleBeforeEachCommand(() => settleServer(session))
  const url = (database: string): string =>
    `mysql://${server.username}${server.password ? `:${server.password}` : ''}@${server.host}/${database}`
  const rows: string[][] = []
  try {
    process.stdout.write(`data set: shop + mounts, scale ${scale}, under ${work}\n`)
    await ensureShopDatabase(session, db, scale)
    const mounts = await ensureMountsDataset(join(base, `mounts-${scale}`), scale)
    await rm(work, { recursive: true, force: true })
    await mkdir(work, { recursive: true })
    // The environment works on a copy of the cached mounts (the 1 % step changes files).
    const live = join(work, 'live')
    await run('cp', ['-a', mounts, live])
    const mountList = (root: string): { name: string; path: string }[] =>
      ['pub/media', 'var', 'app/etc'].map((name) => ({ name, path: join(root, name) }))
    const env = (database: string, root: string, name: string) => ({
      project: 'bench',
      name,
      type: 'integration' as const,
      services: [{ name: 'mysql', kind: 'mysql' as const, url: url(database) }],
      mounts: mountList(root),
    })
    const source = env(db, live, 'develop')
    const copy = env(target, join(work, 'restored'), 'staging')
    const password = 'bench'
    const repo = join(work, 'coffer')
    const step = envStepRunner(repo, password)
    const peers = peerTools(server, work, password)
    await step('init', {})
    await peers.init()
    const add = (name: string, c: Measured, peer: string, p?: Measured, note = ''): void => {
      rows.push([
        name,
        c.seconds.toFixed(2),
        peer,
        p ? p.seconds.toFixed(2) : '-',
        p ? ratio(c.seconds, p.seconds) : '-',
        String(c.maxRssMb),
        note,
      ])
      process.stdout.write(`${name}: coffer ${c.seconds.toFixed(2)} s${note ? ` (${note})` : ''}\n`)
    }

    const peerFirst = await peers.capture(db, live)
    const first = await step('snapshot', { env: source })
    add(
      'consistent snapshot',
      first,
      'mydumper -c + restic',
      peerFirst,
      `pause ${first.report.pauseMs} ms`,
    )
    const liveSnap = await step('snapshot', { env: source, live: true })
    add('live snapshot (nothing changed)', liveSnap, '-')

    await changeShopRows(session, db, 0.01, 1)
    const changed = await changeFiles(join(live, 'pub/media'), 0.01)
    process.stdout.write(`changed 1 % of sales_order_item and ${changed} files\n`)
    const peerSecond = await peers.capture(db, live)
    const second = await step('snapshot', { env: source })
    add(
      'snapshot after 1 % changed',
      second,
      'mydumper -c + restic',
      peerSecond,
      `pause ${second.report.pauseMs} ms`,
    )

    await session.query(`DROP DATABASE IF EXISTS \`${target}\``)
    const peerRestore = await peers.restore(db, target, join(work, 'peer-restored'))
    await session.query(`DROP DATABASE IF EXISTS \`${target}\``)
    const full = await step('restore', { env: copy, snapshot: first.report.id })
    add(
      'full restore (another environment)',
      full,
      'restic restore + myloader',
      peerRestore,
      `switch ${full.report.switchMs} ms`,
    )
    const delta = await step('restore', { env: source, snapshot: first.report.id })
    add(
      'delta restore after 1 % changed',
      delta,
      'coffer full restore',
      full,
      `${delta.report.tablesReloaded} tables, ${delta.report.filesWritten} files rewritten`,
    )
    // The same in a process that has restored before, as the server runs restores.
    const changeArgs: Omit<EnvChange, 'round'> = {
      server: server.href,
      database: db,
      media: join(live, 'pub/media'),
    }
    const warm = await step('restore-warm', {
      env: source,
      snapshot: first.report.id,
      change: [process.execPath, '--import', 'tsx', 'bench/lib/env-change-step.ts'],
      changeArgs,
      rounds: [2, 3],
    })
    add(
      'delta restore, warm process (as the server)',
      warm,
      'coffer full restore',
      full,
      `${warm.report.tablesReloaded} tables, ${warm.report.filesWritten} files rewritten`,
    )
    printTable(['step', 'coffer s', 'peer', 'peer s', 'ratio', 'coffer MB', ''], rows)
  } finally {
    await session.query(`DROP DATABASE IF EXISTS \`${target}\``).catch(() => undefined)
    unsettle()
    await session.end()
  }
}

export { runBench as run }

function peerTools(server: URL, work: string, password: string) {
  const env = { RESTIC_PASSWORD: password }
  const conn = [
    `--host=${server.hostname}`,
    `--port=${server.port || '3306'}`,
    `--user=${decodeURIComponent(server.username)}`,
    ...(server.password ? [`--password=${decodeURIComponent(server.password)}`] : []),
  ]
  const repo = join(work, 'restic-repo')
  const dumpDir = join(work, 'mydumper')
  const restic = (a: string[]): Promise<Measured> =>
    measure('restic', ['--no-cache', '-r', repo, ...a], env)
  const sum = (a: Measured, b: Measured): Measured => ({
    seconds: a.seconds + b.seconds,
    maxRssMb: Math.max(a.maxRssMb, b.maxRssMb),
    stdout: '',
  })
  return {
    init: () => restic(['init', '--repository-version', '2']),
    async capture(db: string, mounts: string): Promise<Measured> {
      await rm(dumpDir, { recursive: true, force: true })
      const d = await measure('mydumper', [
        ...conn,
        '-B',
        db,
        '-t',
        '2',
        '-c',
        '-o',
        dumpDir,
        '-R',
        '-E',
        '-G',
      ])
      return sum(d, await restic(['backup', '--host', 'bench', dumpDir, mounts]))
    },
    async restore(db: string, target: string, into: string): Promise<Measured> {
      await rm(into, { recursive: true, force: true })
      const r = await restic(['restore', 'latest', '--target', into])
      const dumped = join(into, dumpDir)
      const l = await measure('myloader', [
        ...conn,
        '-d',
        dumped,
        '-s',
        db,
        '-B',
        target,
        '-t',
        '2',
        '-o',
      ])
      return sum(r, l)
    },
  }
}

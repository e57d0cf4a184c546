import { execFile } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  COFFER_CLI,
  measure,
  printTable,
  ratio,
  settleBeforeEachCommand,
  type Measured,
} from './lib/measure.js'
import { connectServer } from './lib/server-session.js'
import { settleServer } from './lib/server-settle.js'
import { physicalRows } from './lib/physical-rows.js'
import {
  changeShopRows,
  ensureShopDatabase,
  shopDatabaseName,
  type ShopSession,
} from './lib/shop-dataset.js'

/**
 * `npm run bench -- mysql [--scale S]`: Coffer's MySQL/MariaDB driver against the tools an
 * administrator would script, on the shop database, same machine, same run:
 *
 * - capture: Coffer vs `mydumper -t 2` then `restic backup` of its directory (no `-c`: restic
 *   compresses) vs `mariadb-dump --single-transaction > dump.sql` then `restic backup` of it;
 * - the same after 1 % of the rows of sales_order_item changed (restic deduplicates against
 *   its previous snapshot; the dump tools rewrite everything);
 * - full restore into a new database: Coffer vs `myloader -t 2` vs `mariadb < dump.sql` (the
 *   peers load from the files already on local disk, without a `restic restore` first);
 * - Coffer delta restore after 1 % of one table's rows changed in the restored copy, and in
 *   place (into the source database, as an environment restore runs) after 1 % changed there;
 * - physical mode: capture vs `mariabackup --backup`, restore vs the same `myloader -t 2`
 *   (bench/lib/physical-rows.ts; skipped with `--no-physical`).
 *
 * Wall time and peak RSS of each command (the largest process of a pair), with Coffer/peer
 * ratios. Coffer runs the built CLI (`npm run build` first); while the CLI has no `--mysql`,
 * the Coffer column reads "-" and one line says why.
 */
export async function run(args: string[]): Promise<void> {
  const scaleAt = args.indexOf('--scale')
  const scale = scaleAt >= 0 ? Number(args[scaleAt + 1]) : 1
  if (!(scale > 0)) throw new Error('--scale must be a positive number')
  const server = new URL(process.env.COFFER_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306')
  const base = process.env.COFFER_BENCH_DIR ?? join(tmpdir(), 'coffer-bench')
  const work = join(base, 'mysql-bench')
  const db = shopDatabaseName(scale)
  const targets = {
    coffer: `${db}_r_coffer`,
    myloader: `${db}_r_myloader`,
    physical: `${db}_r_physical`,
    dump: `${db}_r_dump`,
  } as const

  const session = await connectServer(server)
  // Each measured command starts once the server has written back the previous one's rows.
  const unsettle = settleBeforeEachCommand(() => settleServer(session))
  let sourceChanged = false
  try {
    process.stdout.write(`data set: shop, scale ${scale}, database ${db}, files under ${work}\n`)
    const generated = await ensureShopDatabase(session, db, scale)
    process.stdout.write(
      generated.seconds > 0
        ? `generated ${generated.rows} rows in ${generated.seconds.toFixed(1)} s\n`
        : `reusing ${db} (${generated.rows} rows)\n`,
    )
    await rm(work, { recursive: true, force: true })
    await mkdir(work, { recursive: true })
    for (const t of Object.values(targets)) await session.query(`DROP DATABASE IF EXISTS \`${t}\``)

    const peers = peerTools(server, work)
    const coffer = await cofferTool(server, join(work, 'coffer-repo'))
    if (coffer.available) await coffer.init()
    else process.stdout.write(`coffer: not available (${coffer.reason})\n`)
    await peers.resticInit()

    const rows: string[][] = []
    const report = (step: string, c: Measured | undefined, peer: string, p: Measured): void => {
      rows.push([
        step,
        peer,
        c ? c.seconds.toFixed(2) : '-',
        p.seconds.toFixed(2),
        c ? ratio(c.seconds, p.seconds) : '-',
        c ? String(c.maxRssMb) : '-',
        String(p.maxRssMb),
      ])
      process.stdout.write(
        `${step}: coffer ${c ? `${c.seconds.toFixed(2)} s` : '-'}, ${peer} ${p.seconds.toFixed(2)} s\n`,
      )
    }
    // Peers first, then Coffer, in every step: each reads a database the previous tool warmed.
    const capture = async (step: string): Promise<Measured | undefined> => {
      const mydumper = await peers.mydumperBackup(db)
      const dump = await peers.mariadbDumpBackup(db)
      const c = coffer.available ? await coffer.backup(db) : undefined
      report(step, c, 'mydumper -t 2 + restic', mydumper)
      report(step, c, 'mariadb-dump + restic', dump)
      return c
    }

    const first = await capture('first capture')
    const changed = await changeShopRows(session, db, 0.01, 1)
    sourceChanged = true
    process.stdout.write(`changed ${changed} rows of sales_order_item\n`)
    const second = await capture('capture after 1 % changed')

    for (const t of Object.values(targets))
      await session.query(
        `CREATE DATABASE \`${t}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
      )
    const myloader = await peers.myloaderRestore(db, targets.myloader)
    const mariadb = await peers.mariadbRestore(targets.dump)
    await session.query(`DROP DATABASE \`${targets.coffer}\``)
    const full = coffer.available ? await coffer.restore(db, targets.coffer) : undefined
    report('full restore', full, 'myloader -t 2', myloader)
    report('full restore', full, 'mariadb < dump.sql', mariadb)

    const notes: string[] = []
    if (first && second)
      notes.push(`second capture / first: ${ratio(second.seconds, first.seconds)}`)
    if (full && coffer.available) {
      notes.push(
        `coffer restore equals the source: ${await sameChecksums(session, db, targets.coffer)}`,
      )
      await changeShopRows(session, targets.coffer, 0.01, 2)
      const againstFull = (step: string, m: Measured): string[] => [
        step,
        'coffer full restore',
        m.seconds.toFixed(2),
        full.seconds.toFixed(2),
        ratio(m.seconds, full.seconds),
        String(m.maxRssMb),
        String(full.maxRssMb),
      ]
      rows.push(againstFull('delta restore', await coffer.restore(db, targets.coffer)))
      notes.push(
        `coffer delta restore equals the source: ${await sameChecksums(session, db, targets.coffer)}`,
      )
      // In place, as an environment restore runs: the source itself, 1 % of one table changed
      // since the second capture. The tables the capture vouched for (docs/MYSQL.md, "Delta
      // without reading") are kept without reading them; the others are read and compared.
      await changeShopRows(session, db, 0.01, 3)
      const inPlace = await coffer.restore(db, db)
      rows.push(againstFull('delta restore in place', inPlace))
      notes.push(
        `coffer delta restore in place: ${/kept \d+ \(\d+ without reading\)/.exec(inPlace.stdout)?.[0] ?? '?'}; equals the snapshot: ${await sameChecksums(session, db, targets.coffer)}`,
      )
    } else rows.push(['delta restore', '-', '-', '-', '-', '-', '-'])
    if (!args.includes('--no-physical')) {
      await session.query(`DROP DATABASE IF EXISTS \`${targets.physical}\``)
      rows.push(
        ...(await physicalRows({
          server,
          db,
          target: targets.physical,
          work: join(work, 'physical'),
          myloader,
        })),
      )
      notes.push(
        `coffer physical restore equals the source: ${await sameChecksums(session, db, targets.physical)}`,
      )
    }
    notes.push(
      `myloader restore equals the source: ${await sameChecksums(session, db, targets.myloader)}`,
    )
    notes.push(
      `mariadb restore equals the source: ${await sameChecksums(session, db, targets.dump)}`,
    )

    notes.push(`restic repository: ${await sizeMb(join(work, 'restic-repo'))} MB`)
    if (coffer.available)
      notes.push(`coffer repository: ${await sizeMb(join(work, 'coffer-repo'))} MB`)
    printTable(['step', 'peer', 'coffer s', 'peer s', 'ratio', 'coffer MB', 'peer MB'], rows)
    for (const n of notes) process.stdout.write(`${n}\n`)
    for (const t of Object.values(targets)) await session.query(`DROP DATABASE IF EXISTS \`${t}\``)
    await rm(work, { recursive: true, force: true })
  } finally {
    // Back to the generated content, so the next run reuses the same data.
    if (sourceChanged) await changeShopRows(session, db, 0.01, 1, true)
    unsettle()
    await session.end()
  }
}

/** The peer commands; each writes into `work` and fails loudly if its tool fails. */
function peerTools(server: URL, work: string) {
  const password = decodeURIComponent(server.password)
  const env = { MYSQL_PWD: password, RESTIC_PASSWORD: 'bench', RESTIC_PROGRESS_FPS: '0.1' }
  const conn = [
    `--host=${server.hostname}`,
    `--port=${server.port || '3306'}`,
    `--user=${decodeURIComponent(server.username)}`,
  ]
  // mydumper/myloader 0.10 take the password only as an option.
  const myConn = [...conn, ...(password ? [`--password=${password}`] : [])]
  const repo = join(work, 'restic-repo')
  const restic = (a: string[]): Promise<Measured> =>
    measure('restic', ['--no-cache', '-r', repo, ...a], env)
  const dumpDir = join(work, 'mydumper')
  const dumpFile = join(work, 'dump.sql')
  const sh = (script: string): Promise<Measured> => measure('sh', ['-c', script], env)
  return {
    resticInit: () => restic(['init', '--repository-version', '2']),
    async mydumperBackup(db: string): Promise<Measured> {
      await rm(dumpDir, { recursive: true, force: true })
      const d = await measure(
        'mydumper',
        [...myConn, '-B', db, '-t', '2', '-o', dumpDir, '-R', '-E', '-G', '-v', '1'],
        env,
      )
      return sum(d, await restic(['backup', '--host', 'bench', dumpDir]))
    },
    async mariadbDumpBackup(db: string): Promise<Measured> {
      const d = await sh(
        `exec mariadb-dump ${conn.join(' ')} --single-transaction --routines --events --triggers ${db} > '${dumpFile}'`,
      )
      return sum(d, await restic(['backup', '--host', 'bench', dumpFile]))
    },
    myloaderRestore: (source: string, target: string): Promise<Measured> =>
      measure(
        'myloader',
        [...myConn, '-d', dumpDir, '-s', source, '-B', target, '-t', '2', '-o', '-v', '1'],
        env,
      ),
    mariadbRestore: (target: string): Promise<Measured> =>
      sh(`exec mariadb ${conn.join(' ')} ${target} < '${dumpFile}'`),
  }
}

/** Bytes under `path` (`du -sb`), in MB. */
function sizeMb(path: string): Promise<string> {
  return new Promise((resolve) =>
    execFile('du', ['-sb', path], (error, stdout) =>
      resolve(error ? '?' : (Number(stdout.split('\t')[0]) / 1e6).toFixed(1)),
    ),
  )
}

/** Two commands run one after the other: times add, the peak is the larger one's. */
function sum(a: Measured, b: Measured): Measured {
  return { seconds: a.seconds + b.seconds, maxRssMb: Math.max(a.maxRssMb, b.maxRssMb), stdout: '' }
}

type CofferTool =
  | {
      readonly available: true
      init(): Promise<Measured>
      backup(db: string): Promise<Measured>
      restore(db: string, target: string): Promise<Measured>
    }
  | { readonly available: false; readonly reason: string }

/**
 * Coffer through its built CLI (`bin/coffer`, as `npm run bench -- repo` does), so peak RSS is
 * Coffer's own process. The command lines are those of the driver issue: `repo:backup --mysql
 * URL/DB` and `repo:restore latest --mysql URL --database-map DB=TARGET`; edit them here if the
 * CLI settles on other flags.
 */
async function cofferTool(server: URL, repo: string): Promise<CofferTool> {
  const help = async (command: string): Promise<string> =>
    new Promise((resolve) =>
      execFile(COFFER_CLI, [command, '--help'], (error, stdout, stderr) =>
        resolve(error && !stdout ? `${stderr}${error.message}` : stdout),
      ),
    )
  const backupHelp = await help('repo:backup')
  const restoreHelp = await help('repo:restore')
  if (!backupHelp.includes('Usage:'))
    return {
      available: false,
      reason: `bin/coffer does not run; npm run build first: ${backupHelp.trim().split('\n')[0]}`,
    }
  if (!backupHelp.includes('--mysql'))
    return {
      available: false,
      reason: 'repo:backup has no --mysql option in dist/ (build after the driver lands)',
    }
  if (!restoreHelp.includes('--mysql'))
    return { available: false, reason: 'repo:restore has no --mysql option in dist/' }
  const env = { COFFER_PASSWORD: 'bench' }
  const cli = (a: string[]): Promise<Measured> => measure(COFFER_CLI, [...a, '--repo', repo], env)
  const at = (db: string): string => new URL(`/${db}`, server).href
  return {
    available: true,
    init: () => cli(['repo:init', '--kdf', '16384,8,1']),
    backup: (db) => cli(['repo:backup', '--mysql', at(db)]),
    restore: (db, target) =>
      cli(['repo:restore', 'latest', '--mysql', at(''), '--database-map', `${db}=${target}`]),
  }
}

/** Compares CHECKSUM TABLE of every base table of `a` and `b`: "yes", or what differs. */
async function sameChecksums(session: ShopSession, a: string, b: string): Promise<string> {
  const sums = async (db: string): Promise<Map<string, string>> => {
    const [tables] = await session.query(
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES
       WHERE TABLE_SCHEMA = '${db}' AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
    )
    const out = new Map<string, string>()
    for (const row of tables as { t: string }[]) {
      const [r] = await session.query(`CHECKSUM TABLE \`${db}\`.\`${row.t}\``)
      out.set(row.t, String((r as { Checksum: unknown }[])[0]?.Checksum))
    }
    return out
  }
  const [x, y] = [await sums(a), await sums(b)]
  const differ = [...new Set([...x.keys(), ...y.keys()])].filter((t) => x.get(t) !== y.get(t))
  return differ.length === 0 ? `yes (${x.size} tables)` : `NO: ${differ.join(', ')}`
}

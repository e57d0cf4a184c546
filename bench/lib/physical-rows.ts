import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { envStepRunner } from './env-step-runner.js'
import { measure, ratio, type Measured } from './measure.js'

export interface PhysicalRowsInput {
  /** The server, as `mysql://user[:password]@host:port`. */
  readonly server: URL
  /** The shop database to capture. */
  readonly db: string
  /** A database name the physical restore may create and drop. */
  readonly target: string
  /** A directory of its own, removed afterwards. */
  readonly work: string
  /** myloader's full restore of the same data in the same run, to compare with. */
  readonly myloader: Measured
}

/**
 * The physical rows of `npm run bench -- mysql` (issue: MySQL physical mode): Coffer's
 * physical capture of the shop database (a hot `mariabackup` backup, prepared for export and
 * stored in the repository, through the environment layer, bench/lib/env-step.mjs) against
 * `mariabackup --backup` of the same database alone, and Coffer's physical restore into a new
 * database against `myloader -t 2`'s full restore measured in the same run. Rows in the mysql
 * bench's table shape: step, peer, Coffer s, peer s, ratio, Coffer MB, peer MB.
 */
export async function physicalRows(input: PhysicalRowsInput): Promise<string[][]> {
  const { server, db, target, work, myloader } = input
  await rm(work, { recursive: true, force: true })
  await mkdir(work, { recursive: true })
  const repo = join(work, 'coffer')
  const password = 'bench'
  const url = (database: string): string => new URL(`/${database}`, server).href
  const env = (database: string, name: string) => ({
    project: 'bench',
    name,
    type: 'integration' as const,
    services: [{ name: 'mysql', kind: 'mysql' as const, url: url(database), mode: 'physical' }],
    mounts: [],
  })
  const step = envStepRunner(repo, password)
  const row = (name: string, peer: string, c: Measured, p: Measured): string[] => {
    process.stdout.write(
      `${name}: coffer ${c.seconds.toFixed(2)} s, ${peer} ${p.seconds.toFixed(2)} s\n`,
    )
    return [
      name,
      peer,
      c.seconds.toFixed(2),
      p.seconds.toFixed(2),
      ratio(c.seconds, p.seconds),
      String(c.maxRssMb),
      String(p.maxRssMb),
    ]
  }
  try {
    const mariabackup = await measure(
      'mariabackup',
      [
        '--backup',
        `--target-dir=${join(work, 'mariabackup')}`,
        `--databases=${db}`,
        `--host=${server.hostname}`,
        `--port=${server.port || '3306'}`,
        `--user=${decodeURIComponent(server.username)}`,
      ],
      { MYSQL_PWD: decodeURIComponent(server.password) },
    )
    await rm(join(work, 'mariabackup'), { recursive: true, force: true })
    await step('init', {})
    const capture = await step('snapshot', { env: env(db, 'develop') })
    const restore = await step('restore', {
      env: env(target, 'staging'),
      snapshot: capture.report.id,
    })
    return [
      row('physical capture', 'mariabackup --backup', capture, mariabackup),
      row('physical restore', 'myloader -t 2', restore, myloader),
    ]
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

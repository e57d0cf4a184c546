import type { Command } from 'commander'
import { readMarker, removeDemo } from '../../demo/index.js'
import { InvalidInputError } from '../../errors.js'
import { err } from '../output.js'
import { adminPassword, mysqlCandidates, operatorApi } from './demo-api.js'
import { startServe } from './server-runtime.js'

/**
 * `coffer demo:remove`: removes what `npm start`'s demo created (its projects with their
 * repositories, its `coffer_demo_*` databases, its directory). Runs the server on a free
 * loopback port for the time of the removal, so Coffer itself must be stopped first.
 */
export async function run(cmd: Command): Promise<void> {
  const o = cmd.opts<{ dataDir: string }>()
  if (!(await readMarker(o.dataDir))) {
    err(`There is no demo in ${o.dataDir}.`)
    return
  }
  const admin = await adminPassword(o.dataDir, process.env, false, () => '')
  if (!admin)
    throw new InvalidInputError(
      'COFFER_ADMIN_PASSWORD',
      'Set COFFER_ADMIN_PASSWORD to the password of `admin` to remove the demo.',
    )
  const coffer = await startServe({
    dataDir: o.dataDir,
    host: '127.0.0.1',
    port: 0,
    worker: false,
    logLevel: 'warn',
    ...(process.env.COFFER_MASTER_KEY ? { masterKey: process.env.COFFER_MASTER_KEY } : {}),
  })
  try {
    await removeDemo({
      api: await operatorApi(coffer.url, admin.password),
      dataDir: o.dataDir,
      mysqlCandidates: mysqlCandidates(process.env),
      say: err,
    })
  } finally {
    await coffer.stop(5_000)
  }
}

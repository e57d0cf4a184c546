import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { createDemo } from '../../demo/index.js'
import { messageOf } from '../../errors.js'
import { err } from '../output.js'
import { interruptSignal } from '../signal.js'
import { adminPassword, mysqlCandidates, operatorApi, PACKAGED_CONSOLE } from './demo-api.js'
import { parseListen, stopOnSignal } from './server-options.js'
import { startServe } from './server-runtime.js'
import { currentCli } from './worker-process.js'

/**
 * `coffer demo:start` (what `npm start` runs): `coffer serve` with the console and, when no
 * project exists yet, the demo. Prints the URL and how to sign in.
 */
export async function run(cmd: Command): Promise<void> {
  const o = cmd.opts<{
    dataDir: string
    listen: string
    consoleDir?: string
    demo: boolean
    logLevel: string
  }>()
  const { host, port } = parseListen(o.listen)
  const fresh = !existsSync(join(o.dataDir, 'coffer.db'))
  const signal = interruptSignal()
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 })
  const admin = await adminPassword(o.dataDir, process.env, fresh, () =>
    randomBytes(12).toString('base64url'),
  )
  const consoleDir = o.consoleDir ?? PACKAGED_CONSOLE
  const coffer = await startServe({
    dataDir: o.dataDir,
    host,
    port,
    consoleDir,
    logLevel: o.logLevel,
    workerProcess: { cli: currentCli(), niceness: 10 },
    ...(admin ? { adminPassword: admin.password } : {}),
    ...(process.env.COFFER_MASTER_KEY ? { masterKey: process.env.COFFER_MASTER_KEY } : {}),
  })
  try {
    const signIn = admin
    if (!existsSync(join(consoleDir, 'index.html')))
      err(`The console is not built (${consoleDir}): run \`npm run build:web\`. The API works.`)
    if (signIn && o.demo) {
      const api = await operatorApi(coffer.url, signIn.password)
      const projects = (await api('GET', '/api/projects')) as { items: unknown[] }
      if (projects.items.length === 0)
        await createDemo({
          api,
          dataDir: o.dataDir,
          mysqlCandidates: mysqlCandidates(process.env),
          say: err,
          now: () => new Date(),
          ...(process.env.COFFER_DEMO_DATABASE
            ? { database: process.env.COFFER_DEMO_DATABASE }
            : {}),
        })
    } else if (!signIn) {
      err('Set COFFER_ADMIN_PASSWORD to the password of `admin` to create the demo.')
    }
    err('')
    err(`Coffer is running: ${coffer.url}/`)
    if (signIn)
      err(
        signIn.file
          ? `Sign in as admin with the password ${signIn.password} (kept in ${signIn.file}).`
          : 'Sign in as admin with the password in COFFER_ADMIN_PASSWORD.',
      )
    err('Remove the demo with `./bin/coffer demo:remove` (stop Coffer first). Ctrl-C stops Coffer.')
  } catch (e) {
    err(`The demo could not be created: ${messageOf(e)}`)
    await coffer.stop(0)
    throw e
  }
  await stopOnSignal(signal, (graceMs) => coffer.stop(graceMs))
}

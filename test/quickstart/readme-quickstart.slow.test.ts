import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../helpers/tmp-dir.js'
import { apiCall, type ApiReply } from '../api/coffer-process.js'

// README.md's quick start as a newcomer meets it: a clean clone of the committed HEAD, the
// first command of the quick-start block run verbatim with a home directory of its own, then
// what the paragraph after the block promises (the URL, the sign-in, the demo, its removal).

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
// Fixed by `demo:start`'s default --listen; README documents no way to pass another.
const URL_PRINTED = 'http://127.0.0.1:8080'
const PORT = 8080
const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' }
const DEMO_DB = 'coffer_demo_shop' // docs/GUIDE.md, "Getting started"
// npm ci (better-sqlite3 compiles from source where its prebuilt binary cannot be fetched),
// tsc, vite build and the demo: about 5 minutes on 2 busy cores.
const START_MS = 420_000
const execFileP = promisify(execFile)

/** The command after `# 1.` in the first ```sh block of README.md's "Quick start". */
function quickStartCommand(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start\n'))
  const block = section && /^```sh\n([\s\S]*?)^```/m.exec(section)?.[1]
  const lines = block?.split('\n') ?? []
  const i = lines.findIndex((l) => l.startsWith('# 1.'))
  const command = i >= 0 ? lines[i + 1]?.trim() : undefined
  if (!command) throw new Error('README.md has no "# 1." command in its quick-start block.')
  return command
}

/**
 * The environment of a user on this machine with a home of their own: nothing of the test
 * runner (npx's npm_* variables and PATH entries, vitest's, COFFER_* knobs), XDG_* unset so
 * the default `~/.local/share/coffer` is used. npm keeps this machine's user config and
 * cache: they are the machine's (nodedir, CA file), not Coffer's, and the cache makes
 * `npm ci` work offline where it can.
 */
function userEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  const dropped = /^(npm_|COFFER_|XDG_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$|INIT_CWD$)/i
  for (const [k, v] of Object.entries(process.env)) if (!dropped.test(k)) env[k] = v
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => !p.includes('node_modules'))
    .join(':')
  env.HOME = home
  env.npm_config_prefer_offline = 'true'
  env.npm_config_cache = process.env.npm_config_cache ?? join(homedir(), '.npm')
  const userNpmrc = join(homedir(), '.npmrc')
  if (existsSync(userNpmrc)) env.npm_config_userconfig = userNpmrc
  return env
}

/** Fails when something already listens on `port` (the quick start's server could not). */
async function assertPortFree(port: number): Promise<void> {
  const srv = createServer()
  await new Promise<void>((resolve, reject) => {
    srv.once('error', (e) =>
      reject(new Error(`Port ${port} is in use; the quick start serves there.`, { cause: e })),
    )
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()))
  })
}

async function databaseExists(name: string): Promise<boolean> {
  const c = await mysql.createConnection(MYSQL)
  try {
    const [rows] = await c.query(
      'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    )
    return (rows as unknown[]).length > 0
  } finally {
    await c.end()
  }
}

/** The pid of the process in process group `pgid` whose argv holds `arg` (Linux /proc). */
async function findInGroup(pgid: number, arg: string): Promise<number | undefined> {
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const s = await readFile(`/proc/${name}/stat`, 'utf8')
      // Fields after "(comm)": state, ppid, pgrp; comm itself may hold spaces.
      const pgrp = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[2])
      if (pgrp !== pgid) continue
      const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0')
      if (argv.includes(arg)) return Number(name)
    } catch {
      // exited while we looked
    }
  }
  return undefined
}

const call = (method: string, path: string, token?: string, body?: unknown): Promise<ApiReply> =>
  apiCall(URL_PRINTED, token, method, path, body)

interface Activity {
  readonly id: string
  readonly state: string
  readonly result: string | null
  readonly snapshot: string | null
  readonly error: unknown
}

async function waitActivity(project: string, id: string, token: string): Promise<Activity> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const r = await call('GET', `/api/projects/${project}/activities/${id}`, token)
    expect(r.status, r.text).toBe(200)
    const a = r.json as unknown as Activity
    if (a.state === 'complete' || a.state === 'cancelled') return a
    if (Date.now() > deadline) throw new Error(`activity ${id} still ${a.state}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('README quick start on a clean clone', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let clone: string
  let home: string
  let env: NodeJS.ProcessEnv
  let command: string
  let dbWasAbsent = false
  let shell: ChildProcess | undefined
  let shellExit: Promise<[number | null, NodeJS.Signals | null]> | undefined
  let output = ''
  let password = ''
  let token = ''
  const repositories: string[] = []
  const dataDir = (): string => join(home, '.local', 'share', 'coffer')
  const coffer = (args: readonly string[]) =>
    execFileP(process.execPath, [join(clone, 'bin', 'coffer'), ...args], { cwd: clone, env })
  const tail = (): string => output.slice(-6_000)

  /** Waits until the quick start has printed `re`; fails early if it exited. */
  async function waitOutput(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = re.exec(output)
      if (m) return m
      if (shell?.exitCode !== null || Date.now() > deadline)
        throw new Error(`\`${command}\` never printed ${re} (exit ${shell?.exitCode}):\n${tail()}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }

  beforeAll(async () => {
    tmp = await makeTempDir('readme-quickstart')
    clone = join(tmp.path, 'coffer')
    home = join(tmp.path, 'home')
    await mkdir(home, { mode: 0o700 })
    env = userEnv(home)
    // The demo's database has a fixed name; one that exists is someone else's, and the
    // demo's marker would list it for removal. Refuse rather than risk dropping it.
    dbWasAbsent = !(await databaseExists(DEMO_DB))
    if (!dbWasAbsent)
      throw new Error(`${DEMO_DB} exists on ${MYSQL.host}: drop it or run its demo:remove first.`)
    await assertPortFree(PORT)
    // The committed HEAD, as a user gets it: nothing of this working tree's changes or builds.
    await execFileP('git', ['clone', '--quiet', REPO_ROOT, clone])
  }, 60_000)

  afterAll(async () => {
    if (shell && shell.exitCode === null && shell.signalCode === null) {
      // detached: the shell leads its own group (npm, its scripts, coffer).
      try {
        process.kill(-shell.pid!, 'SIGKILL')
      } catch {
        // the group ended meanwhile
      }
      await shellExit
    }
    // A failed run leaves the demo: remove it as the README says, then anything left of ours.
    if (home && existsSync(join(dataDir(), 'demo', 'demo.json')))
      await coffer(['demo:remove']).catch(() => undefined)
    if (dbWasAbsent && (await databaseExists(DEMO_DB))) {
      const c = await mysql.createConnection(MYSQL)
      await c.query(`DROP DATABASE \`${DEMO_DB}\``).finally(() => c.end())
    }
    await tmp?.cleanup()
  }, 60_000)

  it('has `npm ci && npm start` as the first command of the quick start', async () => {
    command = quickStartCommand(await readFile(join(clone, 'README.md'), 'utf8'))
    expect(command).toBe('npm ci && npm start')
  })

  it(
    'installs, builds and starts Coffer with the demo, and prints the URL and the sign-in',
    async () => {
      if (!command) throw new Error('No quick-start command (see the test before).')
      shell = spawn('bash', ['-c', command], {
        cwd: clone,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      shellExit = once(shell, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
      shell.stdout!.on('data', (b: Buffer) => (output += b.toString()))
      shell.stderr!.on('data', (b: Buffer) => (output += b.toString()))

      await waitOutput(/Remove the demo with `\.\/bin\/coffer demo:remove`/, START_MS)
      expect(output, tail()).toContain(`Coffer is running: ${URL_PRINTED}/`)
      expect(output, tail()).toContain(
        `Demo: created the shop database ${DEMO_DB} on the local MariaDB/MySQL.`,
      )
      expect(output, tail()).toContain('Demo: created the projects demo-shop (Starter, develop')
      const m = /Sign in as admin with the password (\S+) \(kept in (.+)\)\./.exec(output)
      expect(m, tail()).not.toBeNull()
      password = m![1]!
      // README: the password is generated and kept in the data directory, ~/.local/share/coffer.
      const kept = join(dataDir(), 'admin-password')
      expect(m![2]).toBe(kept)
      expect((await readFile(kept, 'utf8')).trim()).toBe(password)
      expect((await stat(kept)).mode & 0o777).toBe(0o600)
      expect(existsSync(join(dataDir(), 'coffer.db'))).toBe(true)
      expect(await databaseExists(DEMO_DB)).toBe(true)
    },
    START_MS + 10_000,
  )

  it('signs in as admin and lists the demo projects and their environments', async () => {
    expect(password, 'the quick start did not print a password').not.toBe('')
    const login = await call('POST', '/api/auth/login', undefined, { user: 'admin', password })
    expect(login.status, login.text).toBe(200)
    token = (login.json as { token: string }).token

    const r = await call('GET', '/api/projects', token)
    expect(r.status, r.text).toBe(200)
    const projects = (r.json as { items: { id: string; plan: string; repository: string }[] }).items
    expect(projects.map((p) => [p.id, p.plan]).sort()).toEqual([
      ['demo-pro', 'pro'],
      ['demo-shop', 'starter'],
    ])
    repositories.push(...projects.map((p) => p.repository))
    // README: a local repository directory per project, under the data directory.
    for (const repository of repositories) {
      expect(repository.startsWith(dataDir() + '/'), repository).toBe(true)
      expect(existsSync(repository), repository).toBe(true)
    }

    const envs = async (project: string) => {
      const e = await call('GET', `/api/projects/${project}/environments`, token)
      expect(e.status, e.text).toBe(200)
      return (e.json as { items: Record<string, unknown>[] }).items
    }
    const [develop, ...moreShop] = await envs('demo-shop')
    expect(moreShop).toEqual([])
    expect(develop).toMatchObject({ name: 'develop', type: 'integration', status: 'active' })
    expect((develop!.mounts as { name: string }[]).map((m) => m.name).sort()).toEqual([
      'pub/media',
      'var/log',
    ])
    const services = develop!.services as { name: string; kind: string; url: string }[]
    expect(services.map((x) => [x.name, x.kind, new URL(x.url).pathname])).toEqual([
      ['mysql', 'mysql', `/${DEMO_DB}`],
    ])
    const [master, ...morePro] = await envs('demo-pro')
    expect(morePro).toEqual([])
    expect(master).toMatchObject({ name: 'master', type: 'production', automatic_backups: true })
  })

  it('takes a snapshot of the demo integration environment', async () => {
    expect(token, 'no sign-in').not.toBe('')
    // The demo's own first snapshot runs first; an environment runs one activity at a time.
    const first = await call(
      'GET',
      '/api/projects/demo-shop/activities?environment=develop&type=environment.backup',
      token,
    )
    expect(first.status, first.text).toBe(200)
    const [demoBackup] = (first.json as { items: Activity[] }).items
    expect(demoBackup, first.text).toBeDefined()
    expect(await waitActivity('demo-shop', demoBackup!.id, token)).toMatchObject({
      state: 'complete',
      result: 'success',
    })

    const r = await call('POST', '/api/projects/demo-shop/environments/develop/backups', token, {})
    expect(r.status, r.text).toBe(202)
    const done = await waitActivity('demo-shop', (r.json as unknown as Activity).id, token)
    expect(done, JSON.stringify(done)).toMatchObject({ state: 'complete', result: 'success' })
    const list = await call('GET', '/api/projects/demo-shop/environments/develop/backups', token)
    expect(list.status, list.text).toBe(200)
    const backups = (list.json as { items: { id: string; restorable: boolean }[] }).items
    expect(backups).toHaveLength(2)
    expect(backups[0]).toMatchObject({ id: done.snapshot, restorable: true })
  }, 260_000)

  it('stops on SIGTERM, and `npm ci && npm start` exits 0', async () => {
    expect(shell?.exitCode, 'the quick start is not running').toBeNull()
    // SIGTERM to Coffer alone, as a service manager stops it: signalling the whole group
    // would end npm and its shell by the signal too and hide the exit status Coffer passes up.
    const pid = await findInGroup(shell!.pid!, 'demo:start')
    expect(pid, 'no `coffer demo:start` process under npm start').toBeDefined()
    process.kill(pid!, 'SIGTERM')
    const [code, signal] = await shellExit!
    expect({ code, signal }, tail()).toEqual({ code: 0, signal: null })
    await expect(fetch(URL_PRINTED + '/healthz')).rejects.toThrow()
  }, 60_000)

  it('`./bin/coffer demo:remove` removes the demo databases, directories and repositories', async () => {
    expect(shell?.exitCode, 'Coffer was not stopped').toBe(0)
    // As the README and Coffer's own hint write it: the clone's bin/coffer.
    const marker = JSON.parse(await readFile(join(dataDir(), 'demo', 'demo.json'), 'utf8')) as {
      databases: string[]
      projects: string[]
    }
    expect(marker).toMatchObject({ databases: [DEMO_DB], projects: ['demo-shop', 'demo-pro'] })
    const r = await coffer(['demo:remove'])
    expect(r.stderr).toContain('The demo is removed.')
    for (const db of marker.databases) expect(await databaseExists(db), db).toBe(false)
    expect(existsSync(join(dataDir(), 'demo'))).toBe(false)
    for (const repository of repositories) expect(existsSync(repository), repository).toBe(false)
    // The operator and the data directory stay (docs/GUIDE.md: "the operator are kept").
    expect(existsSync(join(dataDir(), 'coffer.db'))).toBe(true)
  }, 60_000)
})

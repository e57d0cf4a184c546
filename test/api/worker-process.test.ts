import { readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store/index.js'
import { dropSchema, TEST_POSTGRES_URL, testSchemaName } from '../helpers/test-store.js'
import { makeTempDir } from '../helpers/tmp-dir.js'
import {
  apiCall,
  freePort,
  startCofferProcess,
  waitHealthy,
  type ApiReply,
  type CofferProcess,
} from './coffer-process.js'

const ADMIN_PASSWORD = 'worker-admin-Pw71q'

/** The nice value of a process, from /proc (field 19 of its stat line). */
async function niceOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis don't.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[16])
}

/** Whether `pid` runs (a zombie that nobody reaped yet counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The worker PIDs `coffer serve` reported ready, in order, from its JSON log. */
function workerPids(proc: CofferProcess): number[] {
  return [
    ...proc.output().matchAll(/"workerPid":(\d+),"niceness":(\d+),"msg":"worker process ready"/g),
  ].map((m) => Number(m[1]))
}

/**
 * `coffer serve` runs activities in a child `coffer worker` process at a lower CPU priority:
 * the API's thread never runs them. A worker that dies is restarted; a worker whose server
 * was killed exits; a graceful stop stops both.
 */
describe('coffer serve with its worker process', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let dataDir: string
  let url: string
  let proc: CofferProcess | undefined
  let token = ''
  const call = (method: string, path: string, body?: unknown): Promise<ApiReply> =>
    apiCall(url, token, method, path, body)

  async function snapshotOnce(): Promise<string> {
    const r = await call('POST', '/api/projects/shop/environments/develop/backups', {})
    expect(r.status, r.text).toBe(202)
    const id = String(r.json.id)
    for (let i = 0; i < 1200; i++) {
      const a = await call('GET', `/api/projects/shop/activities/${id}`)
      if (a.json.state === 'complete') {
        expect(a.json, a.text).toMatchObject({ result: 'success' })
        return id
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`activity ${id} did not finish`)
  }

  /** The PID of the worker process that ran activity `id` (the store keeps it while it runs). */
  async function ranBy(id: string): Promise<string | null> {
    const store = await openStore({ location: join(dataDir, 'coffer.db') })
    try {
      const row = await store.db
        .selectFrom('activities')
        .select('worker_id')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
      return row.worker_id
    } finally {
      await store.close()
    }
  }

  beforeAll(async () => {
    tmp = await makeTempDir('worker-process')
    dataDir = join(tmp.path, 'data')
    const mount = join(tmp.path, 'env', 'media')
    await mkdir(mount, { recursive: true })
    await writeFile(join(mount, 'a.txt'), 'a\n')
    url = `http://127.0.0.1:${await freePort()}`
    proc = startCofferProcess(
      [
        'serve',
        '--data-dir',
        dataDir,
        '--listen',
        url.slice('http://'.length),
        '--worker-nice',
        '7',
      ],
      { COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD },
    )
    await waitHealthy(url, proc)
    const login = await call('POST', '/api/auth/login', { user: 'admin', password: ADMIN_PASSWORD })
    token = String(login.json.token)
    expect((await call('POST', '/api/projects', { id: 'shop', plan: 'starter' })).status).toBe(201)
    const env = await call('POST', '/api/projects/shop/environments', {
      name: 'develop',
      type: 'integration',
      mounts: [{ name: 'pub/media', path: mount }],
    })
    expect(env.status, env.text).toBe(201)
  })

  afterAll(async () => {
    for (const pid of proc ? workerPids(proc) : []) if (alive(pid)) process.kill(pid, 'SIGKILL')
    await proc?.kill9()
    await tmp.cleanup()
  })

  it('runs activities in a child process with the lower priority asked for', async () => {
    const [pid] = workerPids(proc!)
    expect(pid).toBeGreaterThan(0)
    expect(pid).not.toBe(proc!.child.pid)
    expect(await niceOf(pid!)).toBe(7)
    expect(await niceOf(proc!.child.pid!)).toBe(0)
    const id = await snapshotOnce()
    // The activity was claimed by a worker identity the serve process does not use.
    const worker = await ranBy(id)
    expect(worker).toMatch(/^[0-9a-f]{16}$/)
    expect(proc!.output()).toContain(`"pid":${pid},"labels":[null],"worker":"${worker}"`)
  })

  it('restarts a worker that died, and the next activity runs', async () => {
    const [first] = workerPids(proc!)
    process.kill(first!, 'SIGKILL')
    const second = await until('a new worker', () => workerPids(proc!)[1])
    expect(second).not.toBe(first)
    expect(proc!.output()).toContain('worker process exited; restarting it')
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200 })
    await snapshotOnce()
  })

  it('stops its worker on SIGTERM, and both exit cleanly', async () => {
    const pid = workerPids(proc!).at(-1)!
    expect(alive(pid)).toBe(true)
    expect(await proc!.stop()).toBe(0)
    expect(alive(pid)).toBe(false)
    expect(proc!.output()).toContain('coffer worker stopped')
  })

  it('has its worker exit at once when the server is killed', async () => {
    proc = startCofferProcess(
      ['serve', '--data-dir', dataDir, '--listen', url.slice('http://'.length)],
      {},
    )
    await waitHealthy(url, proc)
    const [pid] = workerPids(proc)
    expect(await niceOf(pid!)).toBe(10)
    await proc.kill9()
    await until('the orphaned worker to exit', () => (alive(pid!) ? undefined : true), 10_000)
  })

  it('leaves activities to a `coffer worker` on the same SQLite store with --no-worker', async () => {
    proc = startCofferProcess([
      'serve',
      '--data-dir',
      dataDir,
      '--listen',
      url.slice('http://'.length),
      '--no-worker',
    ])
    await waitHealthy(url, proc)
    expect(workerPids(proc)).toEqual([])
    const worker = startCofferProcess(['worker', '--data-dir', dataDir])
    try {
      await until('the worker to start', () =>
        worker.output().includes('Coffer worker started (labels: unlabelled environments)')
          ? true
          : undefined,
      )
      const id = await snapshotOnce()
      expect(worker.output()).toContain(`"worker":"${await ranBy(id)}"`)
    } finally {
      expect(await worker.stop()).toBe(0)
      await proc.stop()
    }
  })

  it('hands a PostgreSQL store to its worker by the environment, not the command line', async () => {
    const schema = testSchemaName('child_worker')
    const pgDir = join(tmp.path, 'pg-data')
    proc = startCofferProcess(
      [
        'serve',
        '--data-dir',
        pgDir,
        '--listen',
        url.slice('http://'.length),
        '--store',
        TEST_POSTGRES_URL,
        '--store-schema',
        schema,
      ],
      { COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD },
    )
    try {
      await waitHealthy(url, proc)
      const [pid] = workerPids(proc)
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      expect(cmdline).toContain(schema)
      expect(cmdline).not.toContain('postgres')
      token = '' // the SQLite server's token means nothing here
      const login = await call('POST', '/api/auth/login', {
        user: 'admin',
        password: ADMIN_PASSWORD,
      })
      expect(login.status, login.text).toBe(200)
      token = String(login.json.token)
      const project = await call('POST', '/api/projects', { id: 'shop', plan: 'starter' })
      expect(project.status, project.text).toBe(201)
      const env = await call('POST', '/api/projects/shop/environments', {
        name: 'develop',
        type: 'integration',
        mounts: [{ name: 'pub/media', path: join(tmp.path, 'env', 'media') }],
      })
      expect(env.status, env.text).toBe(201)
      await snapshotOnce()
      expect(await proc.stop()).toBe(0)
      expect(alive(pid!)).toBe(false)
    } finally {
      await proc.kill9()
      await dropSchema(schema)
    }
  })
})

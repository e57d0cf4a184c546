import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoSecretPurpose, SecretBox, loadMasterKey } from '../../src/control/index.js'
import { openStore } from '../../src/store/index.js'
import { describeTree, diffTrees, type Entry } from '../helpers/dir-snapshot.js'
import { restic } from '../helpers/restic.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'
import {
  apiCall,
  freePort,
  startCofferProcess,
  waitHealthy,
  type ApiReply,
  type CofferProcess,
} from './coffer-process.js'

const ADMIN_PASSWORD = 'serve-admin-Pw93k'
const INTERRUPTED =
  'The activity was interrupted: the process running it stopped before it finished.'

/**
 * `coffer serve` as a real process: it starts from the CLI, creates `admin` from
 * COFFER_ADMIN_PASSWORD, stops on SIGTERM, and after a kill -9 during a snapshot and during a
 * restore, the next start fails the activity ("interrupted"), leaves the environment intact
 * and the repository clean.
 */
describe('coffer serve as a process', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let dataDir: string
  let mount: string
  let url: string
  let port: number
  let proc: CofferProcess | undefined
  let token: string
  const outputs: string[] = []

  const call = (method: string, path: string, body?: unknown): Promise<ApiReply> =>
    apiCall(url, token, method, path, body)

  async function serve(): Promise<void> {
    proc = startCofferProcess(['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
      COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    })
    await waitHealthy(url, proc)
  }

  async function kill9(): Promise<void> {
    await proc!.kill9()
    outputs.push(proc!.output())
  }

  async function waitState(
    id: string,
    states: readonly string[],
  ): Promise<Record<string, unknown>> {
    for (let i = 0; ; i++) {
      const r = await call('GET', `/api/projects/shop/activities/${id}`)
      expect(r.status, r.text).toBe(200)
      if (states.includes(String(r.json.state))) return r.json
      if (r.json.state === 'complete') throw new Error(`activity ended early: ${r.text}`)
      if (i > 2400) throw new Error(`activity ${id} stuck: ${r.text}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  async function expectInterrupted(id: string): Promise<void> {
    const r = await call('GET', `/api/projects/shop/activities/${id}`)
    expect(r.json).toMatchObject({
      state: 'complete',
      result: 'failure',
      error: { code: 'interrupted', message: INTERRUPTED },
    })
    const log = await call('GET', `/api/projects/shop/activities/${id}/log`)
    expect(log.text).toContain(INTERRUPTED)
  }

  const tree = (): Promise<Entry[]> => describeTree(mount)

  beforeAll(async () => {
    tmp = await makeTempDir('serve-process')
    dataDir = join(tmp.path, 'data')
    mount = join(tmp.path, 'env', 'media')
    await mkdir(join(mount, 'catalog'), { recursive: true })
    for (let i = 0; i < 20; i++)
      await writeFile(join(mount, 'catalog', `item-${i}.txt`), `item ${i}\n`)
    await writeFile(join(mount, 'big.bin'), seededBytes('big', 24 * 1024 * 1024))
    port = await freePort()
    url = `http://127.0.0.1:${port}`
  })

  afterAll(async () => {
    await writeFile(join(tmp.path, 'gate'), '').catch(() => {})
    if (proc) outputs.push(proc.output())
    await proc?.kill9()
    await tmp.cleanup()
  })

  it('starts from the CLI and creates the operator admin', async () => {
    await serve()
    expect((await stat(join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600)
    token = ''
    expect(
      (await call('POST', '/api/auth/login', { user: 'admin', password: 'wrong-password' })).status,
    ).toBe(401)
    const login = await call('POST', '/api/auth/login', { user: 'admin', password: ADMIN_PASSWORD })
    expect(login.status, login.text).toBe(200)
    token = login.json.token as string
    expect(await call('GET', '/api/auth/me')).toMatchObject({
      status: 200,
      json: { user: { name: 'admin', operator: true } },
    })
    expect((await call('POST', '/api/projects', { id: 'shop', plan: 'starter' })).status).toBe(201)
    const env = await call('POST', '/api/projects/shop/environments', {
      name: 'develop',
      type: 'integration',
      mounts: [{ name: 'pub/media', path: mount }],
    })
    expect(env.status, env.text).toBe(201)
  })

  let first: string
  it('fails a snapshot that a kill -9 interrupted, and leaves the environment as it was', async () => {
    const ok = await call('POST', '/api/projects/shop/environments/develop/backups', {})
    expect(ok.status, ok.text).toBe(202)
    first = String((await waitState(String(ok.json.id), ['complete'])).snapshot)
    const gate = join(tmp.path, 'gate')
    const hold = `while [ ! -f ${gate} ]; do sleep 0.05; done`
    expect(
      (
        await call('PATCH', '/api/projects/shop/environments/develop', {
          hooks: { hold, release: 'true' },
        })
      ).status,
    ).toBe(200)
    const before = await tree()
    const r = await call('POST', '/api/projects/shop/environments/develop/backups', {})
    expect(r.status, r.text).toBe(202)
    const id = String(r.json.id)
    await waitState(id, ['in_progress'])
    await kill9()
    await writeFile(gate, '') // lets the orphaned hook end
    await serve()
    await expectInterrupted(id)
    expect(diffTrees(await tree(), before)).toEqual([])
    expect(
      (await call('PATCH', '/api/projects/shop/environments/develop', { hooks: null })).status,
    ).toBe(200)
  })

  it('fails a restore that a kill -9 interrupted: the environment is before or after, never between', async () => {
    const restored = await tree()
    await writeFile(join(mount, 'big.bin'), seededBytes('big-changed', 24 * 1024 * 1024))
    await writeFile(join(mount, 'catalog', 'item-3.txt'), 'changed\n')
    await writeFile(join(mount, 'new.txt'), 'new\n')
    const changed = await tree()
    const r = await call(
      'POST',
      `/api/projects/shop/environments/develop/backups/${first}/restore`,
      {},
    )
    expect(r.status, r.text).toBe(202)
    const id = String(r.json.id)
    await waitState(id, ['in_progress'])
    await kill9()
    await serve()
    const after = await tree()
    const asBefore = diffTrees(after, changed)
    const asSnapshot = diffTrees(after, restored, { mtimeSlackUs: 2n })
    expect(
      asBefore.length === 0 || asSnapshot.length === 0,
      [...asBefore, ...asSnapshot].join('\n'),
    ).toBe(true)
    const a = await call('GET', `/api/projects/shop/activities/${id}`)
    // Killed after the switch and before the record, the data is the snapshot's; either way
    // the activity is not left hanging.
    expect(a.json.state).toBe('complete')
    if (asBefore.length === 0) await expectInterrupted(id)
    // The environment takes the next restore as usual.
    const again = await call(
      'POST',
      `/api/projects/shop/environments/develop/backups/${first}/restore`,
      {},
    )
    expect(again.status, again.text).toBe(202)
    expect(await waitState(String(again.json.id), ['complete'])).toMatchObject({
      result: 'success',
    })
    expect(diffTrees(await tree(), restored, { mtimeSlackUs: 2n })).toEqual([])
  })

  it('stops on SIGTERM with exit code 0', async () => {
    expect(await proc!.stop()).toBe(0)
    outputs.push(proc!.output())
    expect(proc!.output()).toContain('coffer serve stopped')
    proc = undefined
  })

  it('leaves a repository that restic and coffer check clean, and logs no secret', async () => {
    const store = await openStore({ location: join(dataDir, 'coffer.db') })
    const project = await store.db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', 'shop')
      .executeTakeFirstOrThrow()
    await store.close()
    const password = new SecretBox(await loadMasterKey(dataDir)).open(
      project.repo_secret,
      repoSecretPurpose('shop'),
    )
    const repo = project.repo_location
    expect((await restic(repo, password, ['unlock'])).code).toBe(0)
    const theirs = await restic(repo, password, ['check', '--read-data'])
    expect(theirs.code, theirs.stderr).toBe(0)
    const ours = await runCoffer(['repo:check', '--repo', repo, '--read-data'], {
      env: { COFFER_PASSWORD: password },
    })
    expect(ours.code, ours.stderr).toBe(0)
    const logs = outputs.join('\n')
    expect(logs).toContain('"msg":"activity interrupted"')
    for (const secret of [ADMIN_PASSWORD, password, token]) expect(logs).not.toContain(secret)
  })
})

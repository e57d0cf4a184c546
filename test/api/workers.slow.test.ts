import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/store/index.js'
import { dropSchema, TEST_POSTGRES_URL, testSchemaName } from '../helpers/test-store.js'
import { makeTempDir } from '../helpers/tmp-dir.js'
import {
  apiCall,
  type ApiReply,
  freePort,
  startCofferProcess,
  waitForOutput,
  waitHealthy,
  type CofferProcess,
} from './coffer-process.js'

const ADMIN_PASSWORD = 'workers-admin-Pw51'

/**
 * `coffer serve --no-worker` and two `coffer worker` processes sharing one PostgreSQL
 * pg-boss queue: each activity runs once, on a worker that serves its environment's label.
 */
describe('two workers sharing a PostgreSQL queue', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let schema: string
  let url: string
  let token = ''
  let serve: CofferProcess
  let east: CofferProcess
  let plain: CofferProcess
  let store: Store

  const call = (method: string, path: string, body?: unknown): Promise<ApiReply> =>
    apiCall(url, token, method, path, body)

  beforeAll(async () => {
    tmp = await makeTempDir('workers')
    schema = testSchemaName('workers')
    const dataDir = join(tmp.path, 'data')
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    const common = ['--store', TEST_POSTGRES_URL, '--store-schema', schema, '--data-dir', dataDir]
    serve = startCofferProcess(
      ['serve', ...common, '--listen', `127.0.0.1:${port}`, '--no-worker'],
      {
        COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
    )
    await waitHealthy(url, serve)
    east = startCofferProcess(['worker', ...common, '--label', 'east'])
    plain = startCofferProcess(['worker', ...common])
    await Promise.all([
      waitForOutput(east, 'Coffer worker started'),
      waitForOutput(plain, 'Coffer worker started'),
    ])
    store = await openStore({ location: TEST_POSTGRES_URL, schema })
  })
  afterAll(async () => {
    await Promise.all([serve?.stop(), east?.stop(), plain?.stop()])
    await store?.close()
    await dropSchema(schema)
    await tmp.cleanup()
  })

  it('runs each activity once, on a worker of its label', async () => {
    const login = await call('POST', '/api/auth/login', { user: 'admin', password: ADMIN_PASSWORD })
    expect(login.status, login.text).toBe(200)
    token = login.json.token as string
    expect((await call('POST', '/api/projects', { id: 'shop', plan: 'starter' })).status).toBe(201)
    const envs = [
      ['one', null],
      ['two', null],
      ['three', 'east'],
      ['four', 'east'],
    ] as const
    for (const [name, label] of envs) {
      const dir = join(tmp.path, 'env', name)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'page.html'), `<p>${name}</p>\n`)
      const r = await call('POST', '/api/projects/shop/environments', {
        name,
        type: 'integration',
        mounts: [{ name: 'pub/media', path: dir }],
        label,
      })
      expect(r.status, r.text).toBe(201)
    }
    const ids: Record<string, string> = {}
    for (let round = 0; round < 2; round++) {
      const started = await Promise.all(
        envs.map(([name]) => call('POST', `/api/projects/shop/environments/${name}/backups`, {})),
      )
      for (const [i, r] of started.entries()) {
        expect(r.status, `${r.text}\n${serve.output()}\n${east.output()}`).toBe(202)
        ids[`${envs[i]![0]}-${round}`] = String(r.json.id)
      }
      for (const id of Object.values(ids)) {
        for (let i = 0; ; i++) {
          const a = await call('GET', `/api/projects/shop/activities/${id}`)
          if (a.json.state === 'complete') {
            expect(a.json.result, a.text).toBe('success')
            break
          }
          if (i > 1200)
            throw new Error(`activity ${id} stuck: ${a.text}\n${plain.output()}\n${east.output()}`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    }
    const rows = await store.db
      .selectFrom('activities')
      .innerJoin('workers', 'workers.id', 'activities.worker_id')
      .select(['activities.id', 'activities.environment', 'workers.pid'])
      .execute()
    expect(rows).toHaveLength(8)
    for (const r of rows) {
      const want = r.environment === 'three' || r.environment === 'four' ? east : plain
      expect(r.pid, `${r.environment} ran on pid ${r.pid}`).toBe(want.child.pid)
    }
    const snapshots = await store.db.selectFrom('snapshots').select('id').execute()
    expect(snapshots).toHaveLength(8)
  })

  it('stops the workers and the server on SIGTERM', async () => {
    expect(await east.stop()).toBe(0)
    expect(await plain.stop()).toBe(0)
    expect(await serve.stop()).toBe(0)
  })
})

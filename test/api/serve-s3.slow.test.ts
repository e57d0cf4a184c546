import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js'
import { makeTempDir } from '../helpers/tmp-dir.js'
import {
  apiCall,
  freePort,
  startCofferProcess,
  waitHealthy,
  type ApiReply,
  type CofferProcess,
} from './coffer-process.js'

const ADMIN_PASSWORD = 'serve-s3-admin-Pw27'

/**
 * `coffer serve --repos s3:https://…/bucket/prefix` as a real process, its S3 settings
 * (credentials, CA) from the AWS_* environment as an operator would set them: new projects'
 * repositories go into the bucket, and snapshots round-trip through it.
 */
describe('coffer serve with repositories in S3', () => {
  let s3: S3TestServer
  let tmp: { path: string; cleanup: () => Promise<void> }
  let proc: CofferProcess
  let url: string
  let token = ''

  const call = (method: string, path: string, body?: unknown): Promise<ApiReply> =>
    apiCall(url, token, method, path, body)

  async function waitDone(id: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 1200; i++) {
      const r = await call('GET', `/api/projects/shop/activities/${id}`)
      if (r.json.state === 'complete') return r.json
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`activity ${id} did not finish:\n${proc.output()}`)
  }

  beforeAll(async () => {
    s3 = await startS3Server('serve-s3')
    tmp = await makeTempDir('serve-s3')
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    proc = startCofferProcess(
      [
        'serve',
        '--data-dir',
        join(tmp.path, 'data'),
        '--listen',
        `127.0.0.1:${port}`,
        '--repos',
        `${s3.freshLocation('serve')}/coffer`,
      ],
      { COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD, ...s3.env },
    )
    await waitHealthy(url, proc)
  })
  afterAll(async () => {
    await proc?.stop()
    await s3?.stop()
    await tmp?.cleanup()
  })

  it('creates the project repository in the bucket and round-trips a snapshot', async () => {
    const login = await call('POST', '/api/auth/login', { user: 'admin', password: ADMIN_PASSWORD })
    expect(login.status, login.text).toBe(200)
    token = String(login.json.token)
    const p = await call('POST', '/api/projects', { id: 'shop', plan: 'starter' })
    expect(p.status, p.text).toBe(201)
    expect(String(p.json.repository)).toMatch(
      /^s3:https:\/\/127\.0\.0\.1:\d+\/serve-[0-9a-f]+\/coffer\/shop$/,
    )
    const media = join(tmp.path, 'media')
    await mkdir(media, { recursive: true })
    await writeFile(join(media, 'a.txt'), 'from the bucket')
    const e = await call('POST', '/api/projects/shop/environments', {
      name: 'develop',
      type: 'integration',
      mounts: [{ name: 'pub/media', path: media }],
    })
    expect(e.status, e.text).toBe(201)
    const b = await call('POST', '/api/projects/shop/environments/develop/backups', {})
    expect(b.status, b.text).toBe(202)
    const made = await waitDone(String(b.json.id))
    expect(made.result, JSON.stringify(made)).toBe('success')
    await writeFile(join(media, 'a.txt'), 'changed')
    const r = await call(
      'POST',
      `/api/projects/shop/environments/develop/backups/${String(made.snapshot)}/restore`,
      {},
    )
    expect(r.status, r.text).toBe(202)
    expect((await waitDone(String(r.json.id))).result).toBe('success')
    expect(await readFile(join(media, 'a.txt'), 'utf8')).toBe('from the bucket')
  })
})

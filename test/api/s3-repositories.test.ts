import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRepository } from '../../src/control/index.js'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'
import { restic } from '../helpers/restic.js'
import { bucketName, startS3Server, type S3TestServer } from '../helpers/s3-server.js'

/**
 * Projects whose repositories live in S3-compatible storage (s3rver over HTTPS): the server's
 * base location (`coffer serve --repos s3:…`) with its default settings, and a project's own
 * location and credentials, kept sealed.
 */
describe('repositories in S3', () => {
  let s3: S3TestServer
  let s: TestServer
  let token: string
  let base: string

  beforeAll(async () => {
    s3 = await startS3Server('api-repos')
    base = `${s3.freshLocation('coffer-base')}/projects`
    s = await startTestServer('sqlite', 's3-repos', {
      reposBase: base,
      // The server's defaults, as `coffer serve` reads them from AWS_* variables.
      repoBackend: { s3: s3.clientOptions },
    })
    token = await s.login('admin', ADMIN_PASSWORD)
  })
  afterAll(async () => {
    await s?.stop()
    await s3?.stop()
  })

  async function snapshotAndRestore(project: string): Promise<void> {
    const media = join(s.dir, project, 'pub/media')
    await mkdir(media, { recursive: true })
    await writeFile(join(media, 'logo.svg'), `<svg id="${project}"/>`)
    let r = await s.call('POST', `/api/projects/${project}/environments`, {
      token,
      body: { name: 'develop', type: 'integration', mounts: [{ name: 'pub/media', path: media }] },
    })
    expect(r.status, r.text).toBe(201)
    r = await s.call('POST', `/api/projects/${project}/environments/develop/backups`, {
      token,
      body: {},
    })
    expect(r.status, r.text).toBe(202)
    const made = await s.waitActivity(project, (r.json as { id: string }).id, token)
    expect(made, JSON.stringify(made)).toMatchObject({ result: 'success' })
    await writeFile(join(media, 'logo.svg'), 'changed')
    r = await s.call(
      'POST',
      `/api/projects/${project}/environments/develop/backups/${String(made.snapshot)}/restore`,
      { token, body: {} },
    )
    expect(r.status, r.text).toBe(202)
    const back = await s.waitActivity(project, (r.json as { id: string }).id, token)
    expect(back, JSON.stringify(back)).toMatchObject({ result: 'success' })
    expect(await readFile(join(media, 'logo.svg'), 'utf8')).toBe(`<svg id="${project}"/>`)
  }

  /** restic itself checks every byte of the project's repository in the bucket. */
  async function resticChecks(project: string, env: NodeJS.ProcessEnv): Promise<void> {
    const row = await s.coffer.control.store.db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', project)
      .executeTakeFirstOrThrow()
    const target = projectRepository(row, s.coffer.control)
    const r = await restic(
      target.location,
      target.password,
      ['--cacert', s3.caFile, 'check', '--read-data'],
      { env },
    )
    expect(r.code, r.stderr).toBe(0)
  }

  it('puts a new project under the server base location, and backs up and restores there', async () => {
    const r = await s.call('POST', '/api/projects', {
      token,
      body: { id: 'shop', plan: 'starter' },
    })
    expect(r.status, r.text).toBe(201)
    expect((r.json as { repository: string }).repository).toBe(`${base}/shop`)
    await snapshotAndRestore('shop')
    await resticChecks('shop', {
      AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY,
    })
  })

  it("uses a project's own location and credentials, sealed and never shown", async () => {
    const location = s3.freshLocation('own-bucket')
    s.watch.add('wrong-secret-Yt71')
    // The server's defaults carry credentials; the project's own must win: wrong ones fail.
    const wrong = await s.call('POST', '/api/projects', {
      token,
      body: {
        id: 'blog',
        plan: 'starter',
        repository: {
          location,
          s3: { access_key_id: 'NOBODY-KEY', secret_access_key: 'wrong-secret-Yt71' },
        },
      },
    })
    expect(wrong.status, wrong.text).toBe(502)
    expect((wrong.json as { detail: string }).detail).toContain('access denied (HTTP 403)')
    expect(wrong.text).not.toContain('wrong-secret-Yt71')
    expect((await s.call('GET', '/api/projects/blog', { token })).status).toBe(404)

    const secret = s3.env.AWS_SECRET_ACCESS_KEY!
    const r = await s.call('POST', '/api/projects', {
      token,
      body: {
        id: 'blog',
        plan: 'pro',
        repository: {
          location,
          s3: {
            access_key_id: s3.env.AWS_ACCESS_KEY_ID,
            secret_access_key: secret,
            ca: s3.ca.toString('utf8'),
          },
        },
      },
    })
    expect(r.status, r.text).toBe(201)
    expect(r.json).toMatchObject({ id: 'blog', repository: location })
    expect(JSON.stringify(r.json)).not.toContain(secret)
    const row = await s.coffer.control.store.db
      .selectFrom('projects')
      .select(['repo_options'])
      .where('id', '=', 'blog')
      .executeTakeFirstOrThrow()
    expect(row.repo_options).toBeTruthy()
    expect(row.repo_options).not.toContain(secret)
    expect(row.repo_options).not.toContain('BEGIN CERTIFICATE')
    await snapshotAndRestore('blog')
    expect(s.watch.leaks()).toEqual([])
    await resticChecks('blog', {
      AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: secret,
    })
  })

  it('refuses a location it cannot use, without repeating it', async () => {
    const cases = [
      { location: 'ftp://user:hunter2-Pw@example.net/repo', field: 'repository.location' },
      { location: 'relative/dir', field: 'repository.location' },
      { location: 's3:', field: 'repository.location' },
      { location: join(s.dir, 'plain-dir'), s3: { region: 'eu-west-1' }, field: 'repository.s3' },
      {
        location: `s3:${s3.endpoint}/${bucketName('half')}`,
        s3: { access_key_id: 'ONLY-THE-ID' },
        field: 'repository.s3',
      },
    ]
    for (const c of cases) {
      const r = await s.call('POST', '/api/projects', {
        token,
        body: {
          id: 'bad',
          plan: 'starter',
          repository: { location: c.location, ...(c.s3 ? { s3: c.s3 } : {}) },
        },
      })
      expect(r.status, r.text).toBe(400)
      expect(r.text).toContain(c.field)
      expect(r.text).not.toContain('hunter2')
    }
    expect(s.watch.leaks()).toEqual([])
  })
})

import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.js'
import { ADMIN_PASSWORD, startServe, type ServeProcess } from './serve-process.js'

/**
 * `project:create --repo s3:… --s3-…`: a project whose repository is in S3 with credentials
 * of its own. The server has no S3 credentials in its environment (only the checksum setting
 * s3rver needs), so a snapshot that succeeds went through the project's own.
 */
describe('project:create with a repository in S3', () => {
  let s3: S3TestServer
  let s: ServeProcess

  beforeAll(async () => {
    s3 = await startS3Server('cli-project')
    s = await startServe('project-s3', {
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    })
    const login = await s.run(
      ['auth:login', '--url', s.url, '--user', 'admin', '--password-stdin'],
      { input: `${ADMIN_PASSWORD}\n` },
    )
    expect(login.code, login.stderr).toBe(0)
  }, 60_000)
  afterAll(async () => {
    await s?.stop()
    await s3?.stop()
  })

  it('creates it with the secret from stdin, and a snapshot goes into the bucket', async () => {
    const location = s3.freshLocation('cli-shop')
    const secret = s3.env.AWS_SECRET_ACCESS_KEY!
    const created = await s.run(
      [
        'project:create',
        'bucketshop',
        '--plan',
        'starter',
        '--repo',
        location,
        '--s3-access-key-id',
        s3.env.AWS_ACCESS_KEY_ID!,
        '--s3-secret-stdin',
        '--s3-ca-file',
        s3.caFile,
      ],
      { input: `${secret}\n` },
    )
    expect({ code: created.code, stderr: created.stderr }).toEqual({
      code: 0,
      stderr: 'Created the project bucketshop (plan: starter).\n',
    })
    const got = await s.run(['project:get', 'bucketshop', '--format', 'json'])
    expect(JSON.parse(got.stdout)).toMatchObject({ id: 'bucketshop', repository: location })
    expect(got.stdout).not.toContain(secret + '"')

    const media = join(s.dir, 'media')
    await mkdir(media, { recursive: true })
    await writeFile(join(media, 'a.txt'), 'in the bucket')
    const env = await s.run([
      'environment:create',
      'develop',
      '-p',
      'bucketshop',
      '--type',
      'integration',
      '--mount',
      `pub/media=${media}`,
    ])
    expect(env.code, env.stderr).toBe(0)
    const snap = await s.run(['snapshot:create', '-p', 'bucketshop', '-e', 'develop'])
    expect(snap.code, snap.stderr).toBe(0)
    expect(snap.stderr).toMatch(/Activity \w+ succeeded/)
  })

  it('refuses half the credentials, or S3 options without an s3: location, before any request', async () => {
    const half = await s.run([
      'project:create',
      'x1',
      '--plan',
      'starter',
      '--repo',
      s3.freshLocation('x1'),
      '--s3-access-key-id',
      'KEY',
    ])
    expect({ code: half.code, stderr: half.stderr }).toEqual({
      code: 2,
      stderr: 'coffer: --s3-access-key-id and --s3-secret-stdin go together.\n',
    })
    const noRepo = await s.run([
      'project:create',
      'x2',
      '--plan',
      'starter',
      '--s3-region',
      'eu-west-1',
    ])
    expect({ code: noRepo.code, stderr: noRepo.stderr }).toEqual({
      code: 2,
      stderr: 'coffer: The --s3-… options need --repo s3:https://host/bucket.\n',
    })
  })
})

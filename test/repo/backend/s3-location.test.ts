import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../../src/errors.js'
import {
  LocalBackend,
  openBackend,
  parseS3Location,
  RetryBackend,
} from '../../../src/repo/backend/index.js'

describe('parseS3Location', () => {
  // restic's forms (internal/backend/s3/config.go, ParseConfig) and what each means.
  const cases = [
    {
      location: 's3:https://127.0.0.1:9000/backups',
      endpoint: 'https://127.0.0.1:9000',
      bucket: 'backups',
      prefix: '',
    },
    {
      location: 's3:http://minio.local/backups/team/shop/',
      endpoint: 'http://minio.local',
      bucket: 'backups',
      prefix: 'team/shop',
    },
    {
      location: 's3:s3.amazonaws.com/backups/shop',
      endpoint: 'https://s3.amazonaws.com',
      bucket: 'backups',
      prefix: 'shop',
    },
    {
      location: 's3://s3.eu-central-1.amazonaws.com/backups',
      endpoint: 'https://s3.eu-central-1.amazonaws.com',
      bucket: 'backups',
      prefix: '',
    },
    {
      location: 's3:https://[::1]:9000/b/a//b/./c',
      endpoint: 'https://[::1]:9000',
      bucket: 'b',
      prefix: 'a/b/c',
    },
  ]
  it.each(cases)('$location', ({ location, endpoint, bucket, prefix }) => {
    const loc = parseS3Location(location)
    expect({ endpoint: loc.endpoint, bucket: loc.bucket, prefix: loc.prefix }).toEqual({
      endpoint,
      bucket,
      prefix,
    })
    expect(loc.display).toBe(`s3:${endpoint}/${bucket}${prefix ? `/${prefix}` : ''}`)
  })

  const refused = [
    ['no bucket', 's3:https://127.0.0.1:9000'],
    ['no bucket after the slash', 's3:https://127.0.0.1:9000/'],
    ['no host', 's3:/bucket'],
    ['a prefix that climbs out', 's3:https://h/b/../../x'],
    ['a query', 's3:https://h/b?x=1'],
  ]
  it.each(refused)('refuses %s', (_, location) => {
    expect(() => parseS3Location(location)).toThrow(InvalidInputError)
  })

  it('refuses credentials in the location without repeating them', () => {
    for (const location of ['s3:https://AKIA:hunter2@h/b', 's3:AKIA:hunter2@h/b']) {
      const e = (() => {
        try {
          parseS3Location(location)
        } catch (x) {
          return x
        }
      })()
      expect(e).toBeInstanceOf(InvalidInputError)
      expect((e as Error).message).not.toMatch(/hunter2|AKIA/)
    }
  })
})

describe('openBackend', () => {
  it('opens a directory as a local backend and s3: behind retries', async () => {
    expect(await openBackend('/tmp/some/repo')).toBeInstanceOf(LocalBackend)
    expect(await openBackend('local:/tmp/some/repo')).toBeInstanceOf(LocalBackend)
    const s3 = await openBackend('s3:https://127.0.0.1:1/b/p', {
      s3: { credentials: { accessKeyId: 'k', secretAccessKey: 's' } },
    })
    expect(s3).toBeInstanceOf(RetryBackend)
    expect(s3.location).toBe('s3:https://127.0.0.1:1/b/p')
    expect(s3.connections).toBe(5)
    await s3.close()
  })

  it('refuses a scheme it does not know, without repeating the location', async () => {
    const e = await openBackend('sftp:user:pw@host:/srv/repo').catch((x: unknown) => x)
    expect(e).toBeInstanceOf(InvalidInputError)
    expect((e as Error).message).not.toMatch(/pw@/)
  })
})

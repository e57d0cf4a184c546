import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  formatDate,
  formatElapsed,
  formatSize,
  MYSQL_MODES,
  problemError,
  progressBar,
  readAuth,
  renderRows,
  resolveConnection,
  writeAuth,
  type Activity,
} from '../../../src/cli/client/index.js'
import { EXIT_CODE } from '../../../src/errors.js'
import { DATABASE_MODES } from '../../../src/snapshots/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const HEADERS = ['Created', 'Snapshot ID', 'Restorable']
const ROWS = [
  ['2026-03-08T17:07:01+00:00', '5d1e0b7a', 'true'],
  ['2026-03-01T09:00:00+00:00', 'a, "b"', 'false'],
]

describe('output formats', () => {
  const cases = [
    {
      format: 'table' as const,
      header: true,
      text: [
        '+---------------------------+-------------+------------+',
        '| Created                   | Snapshot ID | Restorable |',
        '+---------------------------+-------------+------------+',
        '| 2026-03-08T17:07:01+00:00 | 5d1e0b7a    | true       |',
        '| 2026-03-01T09:00:00+00:00 | a, "b"      | false      |',
        '+---------------------------+-------------+------------+',
      ],
    },
    {
      format: 'csv' as const,
      header: true,
      text: [
        'Created,Snapshot ID,Restorable',
        '2026-03-08T17:07:01+00:00,5d1e0b7a,true',
        '2026-03-01T09:00:00+00:00,"a, ""b""",false',
      ],
    },
    {
      format: 'tsv' as const,
      header: false,
      text: [
        '2026-03-08T17:07:01+00:00\t5d1e0b7a\ttrue',
        '2026-03-01T09:00:00+00:00\ta, "b"\tfalse',
      ],
    },
    {
      format: 'plain' as const,
      header: true,
      text: [
        'Created                    Snapshot ID  Restorable',
        '2026-03-08T17:07:01+00:00  5d1e0b7a     true',
        '2026-03-01T09:00:00+00:00  a, "b"       false',
      ],
    },
  ]
  it.each(cases)('$format (header: $header)', ({ format, header, text }) => {
    expect(renderRows(HEADERS, ROWS, format, header)).toBe(text.join('\n') + '\n')
  })

  it('formats dates, sizes and durations', () => {
    expect(formatDate('2026-03-08T17:07:01.123Z')).toBe('2026-03-08T17:07:01+00:00')
    expect(formatDate('2026-03-08T17:07:01.123Z', 'Y-m-d H:i')).toBe('2026-03-08 17:07')
    expect(formatDate('2026-03-08T17:07:01Z', 'U')).toBe('1772989621')
    expect(formatSize(3016)).toBe('2.9 KiB')
    expect(formatSize(512)).toBe('512 B')
    expect(formatElapsed(45_000)).toBe('45 secs')
    expect(formatElapsed(1_000)).toBe('1 sec')
    expect(formatElapsed(200_000)).toBe('3 mins 20 secs')
    expect(formatElapsed(3_900_000)).toBe('1 hour 5 mins')
  })

  it('draws the progress bar of a running and a finished activity', () => {
    const base = {
      id: '7f3a9c21',
      state: 'in_progress',
      result: null,
      progress: { percent: 50, phase: null, bytes_done: 1, bytes_total: 2 },
    } as unknown as Activity
    expect(progressBar(base, 12_000)).toBe(`[${'='.repeat(14)}>${' '.repeat(13)}] 12 secs (50%)`)
    expect(progressBar({ ...base, state: 'complete', result: 'success' }, 45_000)).toBe(
      '[============================] 45 secs (complete)',
    )
  })
})

describe('problem details', () => {
  it('keeps the server’s code and sentence; the exit code follows the shared table', () => {
    const e = problemError(
      403,
      JSON.stringify({
        code: 'not_admin',
        detail: 'You must be an administrator to create a snapshot.',
      }),
    )
    expect(e.message).toBe('You must be an administrator to create a snapshot.')
    expect(EXIT_CODE[e.code]).toBe(4)
  })
  it('falls back on the HTTP status when the body is not a problem', () => {
    const e = problemError(404, '<html>nope</html>')
    expect(e.code).toBe('not_found')
    expect(e.message).toBe('The server answered with HTTP status 404.')
  })
})

describe('the API as the client knows it', () => {
  it('offers the MySQL modes the server takes', () => {
    expect(MYSQL_MODES).toEqual(DATABASE_MODES)
  })
})

describe('the stored sign-in', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  beforeAll(async () => {
    tmp = await makeTempDir('cli-auth-store')
  })
  afterAll(async () => {
    await tmp.cleanup()
  })

  it('is written 0600 under XDG_CONFIG_HOME/coffer', async () => {
    const env = { XDG_CONFIG_HOME: tmp.path }
    const file = await writeAuth(env, {
      url: 'http://127.0.0.1:9',
      user: 'alice',
      token: 'secret-token-value',
      expires_at: null,
    })
    expect(file).toBe(join(tmp.path, 'coffer', 'auth.json'))
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(join(tmp.path, 'coffer'))).mode & 0o777).toBe(0o700)
    expect(await readAuth(env)).toMatchObject({ user: 'alice' })
  })

  it('COFFER_TOKEN wins; the stored token never goes to another COFFER_URL', async () => {
    const env = { XDG_CONFIG_HOME: tmp.path }
    expect(await resolveConnection(env)).toMatchObject({ source: 'file', user: 'alice' })
    expect(await resolveConnection({ ...env, COFFER_TOKEN: 't2' })).toMatchObject({
      token: 't2',
      source: 'environment',
    })
    expect(await resolveConnection({ ...env, COFFER_URL: 'http://elsewhere:1' })).toEqual({
      url: 'http://elsewhere:1',
      token: undefined,
      user: undefined,
      source: 'none',
    })
  })
})

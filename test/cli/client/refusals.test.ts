import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../helpers/api-harness.js'
import { NAMES, ok, setupWorld, takeSnapshot, type World } from '../../helpers/api-fixtures.js'
import { cli, freePort } from './cli-process.js'

// Every refusal of the control plane as the CLI shows it: the server's exact sentence on
// stderr after "coffer: ", the exit code of docs/CLI.md, and nothing on stdout. The server
// runs in this process (for its hand-moved clock); the CLI is the built one in a child.

let s: TestServer
let world: World
let oldSnapshot = ''

beforeAll(async () => {
  s = await startTestServer('sqlite', 'cli-refusals')
  world = await setupWorld(s)
  oldSnapshot = await takeSnapshot(s, world.tokens.admin, 'shop', 'feature')
  s.clock.advance(8 * 24 * 3600 * 1000)
})

afterAll(async () => {
  await s?.stop()
})

type Person = keyof World['tokens']
const cases: { what: string; as: Person; args: string[]; code: number; message: string }[] = [
  {
    what: 'a contributor creates a snapshot',
    as: 'contributor',
    args: ['backup', '-p', 'shop', '-e', 'develop'],
    code: 4,
    message: 'You must be an administrator to create a snapshot.',
  },
  {
    what: 'a viewer restores a snapshot',
    as: 'viewer',
    args: ['snapshot:restore', 'OLD', '-p', 'shop', '-e', 'feature', '--yes'],
    code: 4,
    message: 'You must be an administrator to restore a snapshot.',
  },
  {
    what: 'a contributor deletes a snapshot',
    as: 'contributor',
    args: ['snapshot:delete', 'OLD', '-p', 'shop', '-e', 'feature', '--yes'],
    code: 4,
    message: 'You must be an administrator to delete a snapshot.',
  },
  {
    what: 'a snapshot of an inactive environment',
    as: 'admin',
    args: ['snapshot:create', '-p', 'shop', '-e', 'old'],
    code: 4,
    message: 'The environment is not active.',
  },
  {
    what: 'a manual snapshot of Pro staging',
    as: 'admin',
    args: ['backup:create', '-p', 'pro', '-e', 'staging'],
    code: 4,
    message:
      'Manual snapshots are not available on Pro staging and production environments: they are backed up automatically.',
  },
  {
    what: 'a restore of a snapshot older than 7 days',
    as: 'admin',
    args: ['backup:restore', 'OLD', '-p', 'shop', '-e', 'feature', '--yes'],
    code: 4,
    message: 'The snapshot OLD cannot be restored: it is older than 7 days.',
  },
]

describe('refusals seen from the CLI', () => {
  it.each(cases)('$what: exit $code and the server’s message', async (c) => {
    const args = c.args.map((a) => (a === 'OLD' ? oldSnapshot : a))
    const r = await cli(args, { env: { COFFER_URL: s.url, COFFER_TOKEN: world.tokens[c.as] } })
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n').at(-2)).toBe(`coffer: ${c.message.replace('OLD', oldSnapshot)}`)
    expect(r.code).toBe(c.code)
  })

  it('lists the old snapshot as not restorable', async () => {
    const r = await cli(
      [
        'snapshots',
        '-p',
        'shop',
        '-e',
        'feature',
        '--format',
        'csv',
        '-c',
        'id,restorable,created_by',
      ],
      {
        env: { COFFER_URL: s.url, COFFER_TOKEN: world.tokens.viewer },
      },
    )
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      `Snapshot ID,Restorable,Created by\n${oldSnapshot},false,${NAMES.admin}\n`,
    )
  })

  it('a snapshot that does not exist: exit 3', async () => {
    const r = await cli(['snapshot:get', 'deadbeef', '-p', 'shop', '-e', 'develop'], {
      env: { COFFER_URL: s.url, COFFER_TOKEN: world.tokens.admin },
    })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/^coffer: .*deadbeef.*\n$/)
  })

  it('an unknown token: exit 6', async () => {
    const r = await cli(['snapshots', '-p', 'shop', '-e', 'develop'], {
      env: { COFFER_URL: s.url, COFFER_TOKEN: 'not-a-real-token-000000' },
    })
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('coffer: The token is unknown, revoked or expired.\n')
  })

  it('no sign-in at all: exit 6 and what to do', async () => {
    const r = await cli(['snapshots', '-p', 'shop', '-e', 'develop'], {
      env: { XDG_CONFIG_HOME: `${s.dir}/nobody` },
    })
    expect(r.code).toBe(6)
    expect(r.stderr).toBe(
      'coffer: You are not signed in: run coffer auth:login --url URL --user NAME, or set COFFER_URL and COFFER_TOKEN.\n',
    )
  })

  it('a server that does not answer: exit 7', async () => {
    const port = await freePort()
    const r = await cli(['snapshots', '-p', 'shop', '-e', 'develop'], {
      env: { COFFER_URL: `http://127.0.0.1:${port}`, COFFER_TOKEN: 'x-token-000000' },
    })
    expect(r.code).toBe(7)
    expect(r.stderr).toBe(
      `coffer: Cannot connect to http://127.0.0.1:${port}: connection refused.\n`,
    )
  })

  it('an unknown column or format: exit 2 before any request', async () => {
    const r = await cli(['snapshots', '-p', 'shop', '-e', 'develop', '-c', 'colour'], {
      env: { COFFER_URL: s.url, COFFER_TOKEN: world.tokens.admin },
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'coffer: Unknown column "colour": choose from created, id, restorable, size, live, automated, expires, created_by, commit, status.\n',
    )
  })
})

describe('a busy environment', () => {
  it('refuses a second snapshot while one is pending: exit 4', async () => {
    // No worker in this server: the first activity stays pending, so the environment is busy.
    const idle = await startTestServer('sqlite', 'cli-busy', { worker: false })
    try {
      const root = await idle.login('admin', ADMIN_PASSWORD)
      ok(
        await idle.call('POST', '/api/projects', {
          token: root,
          body: { id: 'shop', plan: 'starter' },
        }),
        201,
      )
      ok(
        await idle.call('POST', '/api/projects/shop/environments', {
          token: root,
          body: {
            name: 'develop',
            type: 'integration',
            mounts: [{ name: 'pub/media', path: idle.dir }],
          },
        }),
        201,
      )
      const env = { COFFER_URL: idle.url, COFFER_TOKEN: root }
      const first = await cli(['backup', '-p', 'shop', '-e', 'develop', '--no-wait'], { env })
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(/^[0-9a-f]{8}\n$/)
      const second = await cli(['backup', '-p', 'shop', '-e', 'develop'], { env })
      expect(second.stdout).toBe('')
      expect(second.stderr.split('\n').at(-2)).toBe(
        'coffer: An activity is currently pending or in progress on the environment.',
      )
      expect(second.code).toBe(4)
      const listed = await cli(
        ['activity:list', '-p', 'shop', '--format', 'tsv', '-c', 'id,state,description'],
        { env },
      )
      expect(listed.stdout).toBe(
        `ID\tState\tDescription\n${first.stdout.trim()}\tpending\tadmin created a snapshot of develop\n`,
      )
    } finally {
      await idle.stop()
    }
  })
})

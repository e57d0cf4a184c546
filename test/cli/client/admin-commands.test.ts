import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAuth } from '../../../src/cli/client/index.js'
import { mask, type CliResult } from './cli-process.js'
import { ADMIN_PASSWORD, startServe, type ServeProcess } from './serve-process.js'

// The administration commands (tokens, schedules, environment and project lifecycle,
// cancelling an activity, revoking a role) against a real `coffer serve` child process,
// through the built CLI (npm run build first): what each prints on success, its JSON, and
// its refusals with the server's sentence and the exit code of docs/CLI.md.
//
// People: admin (the operator), alice (admin of the project shop), carol (contributor).
// Environments of shop: develop, feature, slow (its hold command sleeps: a snapshot of it
// stays in progress until cancelled).

const PASSWORD = 'member-password-Hq38'
let s: ServeProcess

const as = (home: string, args: string[], input?: string): Promise<CliResult> =>
  s.run(args, { home, ...(input === undefined ? {} : { input }) })

/** A refusal: nothing on stdout, the one line `coffer: MESSAGE` on stderr, the exit code. */
function expectRefusal(r: CliResult, code: number, message: string): void {
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
    code,
    stdout: '',
    stderr: `coffer: ${message}\n`,
  })
}

/** A success that says what it did on stderr and prints nothing on stdout. */
function expectDone(r: CliResult, message: string): void {
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
    code: 0,
    stdout: '',
    stderr: `${message}\n`,
  })
}

beforeAll(async () => {
  s = await startServe('admin-commands')
  const media = join(s.dir, 'pub-media')
  await mkdir(media, { recursive: true })
  await writeFile(join(media, 'logo.svg'), '<svg>shop</svg>\n')
  const admin = await as(
    'admin',
    ['auth:login', '--url', s.url, '--user', 'admin', '--password-stdin'],
    `${ADMIN_PASSWORD}\n`,
  )
  expect(admin.code, admin.stderr).toBe(0)
  const env = (name: string, ...more: string[]): string[] => [
    'environment:create',
    name,
    '-p',
    'shop',
    '--type',
    'integration',
    '--mount',
    `pub/media=${media}`,
    ...more,
  ]
  // In steps of commands that do not depend on one another, each step's run at once.
  const steps: string[][][] = [
    [
      ['user:create', 'alice', '--password-stdin'],
      ['user:create', 'carol', '--password-stdin'],
      ['project:create', 'shop', '--plan', 'starter', '--title', 'Shop'],
    ],
    [
      env('develop'),
      env('feature'),
      // `exec`: the cancel's signal reaches the sleep itself, not only its shell.
      env('slow', '--hold-cmd', 'exec sleep 30', '--release-cmd', 'true'),
      ['user:grant', 'alice', '-p', 'shop', '--role', 'admin'],
      ['user:grant', 'carol', '-p', 'shop', '--role', 'contributor'],
    ],
  ]
  for (const step of steps) {
    const results = await Promise.all(step.map((args) => as('admin', args, `${PASSWORD}\n`)))
    for (const [i, r] of results.entries())
      expect(r.code, `${step[i]?.join(' ')}: ${r.stderr}`).toBe(0)
  }
  const logins = await Promise.all(
    ['alice', 'carol'].map((user) =>
      as(user, ['auth:login', '--url', s.url, '--user', user, '--password-stdin'], `${PASSWORD}\n`),
    ),
  )
  for (const r of logins) expect(r.code, r.stderr).toBe(0)
}, 60_000)

afterAll(async () => {
  await s?.stop()
})

describe('token:create, token:list, token:revoke', () => {
  it('prints the token once; it works as COFFER_TOKEN until it is revoked', async () => {
    const created = await as('alice', ['token:create', 'cron-job'])
    expect(created.code, created.stderr).toBe(0)
    const id = /^Created the API token cron-job \(([0-9a-f]{16})\); it is shown only once:\n$/.exec(
      created.stderr,
    )?.[1]
    expect(id, created.stderr).toBeDefined()
    expect(created.stdout).toMatch(/^coffer_[A-Za-z0-9_-]{20,}\n$/)
    const token = created.stdout.trim()
    const withToken = (args: string[]): Promise<CliResult> =>
      s.run(args, { home: 'nobody', env: { COFFER_URL: s.url, COFFER_TOKEN: token } })

    const [info, projects] = await Promise.all([
      withToken(['auth:info', '--format', 'json']),
      withToken(['project:list', '--format', 'csv', '-c', 'id,role']),
    ])
    expect(info.code, info.stderr).toBe(0)
    expect(JSON.parse(info.stdout)).toEqual({
      url: s.url,
      user: 'alice',
      operator: false,
      token_from: 'COFFER_TOKEN',
    })
    expect(projects.stdout).toBe('ID,Role\nshop,admin\n')

    const [json, table] = await Promise.all([
      as('alice', ['token:list', '--format', 'json']),
      as('alice', ['tokens']),
    ])
    // The API's Token objects, newest first: this one, then alice's sign-in.
    const items = JSON.parse(json.stdout) as Record<string, unknown>[]
    expect(items.map((t) => Object.keys(t).sort())).toEqual([
      ['created_at', 'expires_at', 'id', 'kind', 'last_used_at', 'name'],
      ['created_at', 'expires_at', 'id', 'kind', 'last_used_at', 'name'],
    ])
    expect(items[0]).toMatchObject({ id, name: 'cron-job', kind: 'api', expires_at: null })
    // It was used above, as COFFER_TOKEN.
    expect(items[0]?.last_used_at).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(items[1]).toMatchObject({ name: 'sign-in', kind: 'session' })
    const session = String(items[1]?.id)
    expect(session).toMatch(/^[0-9a-f]{16}$/)
    expect(table.stderr).toBe('')
    expect(mask(table.stdout, {}).split('\n')).toEqual([
      '+------------------+----------+---------+---------------------------+---------------------------+',
      '| ID               | Name     | Kind    | Created                   | Expires                   |',
      '+------------------+----------+---------+---------------------------+---------------------------+',
      `| ${id} | cron-job | api     | DATE |                           |`,
      `| ${session} | sign-in  | session | DATE | DATE |`,
      '+------------------+----------+---------+---------------------------+---------------------------+',
      '',
    ])

    expectDone(await as('alice', ['token:revoke', id!]), `Revoked the token ${id}.`)
    const [revoked, again] = await Promise.all([
      withToken(['auth:info']),
      as('alice', ['token:revoke', id!]),
    ])
    expectRefusal(revoked, 6, 'The token is unknown, revoked or expired.')
    expectRefusal(again, 3, `The token ${id} does not exist.`)
  })

  it('expires a token after --expires-in-days; nobody revokes another’s token', async () => {
    const before = Date.now()
    const created = await as('alice', ['token:create', 'weekly', '--expires-in-days', '7', '-q'])
    expect(created.code, created.stderr).toBe(0)
    expect(created.stderr).toBe('')
    const json = await as('alice', ['token:list', '--format', 'json'])
    const weekly = (
      JSON.parse(json.stdout) as { id: string; name: string; expires_at: string }[]
    ).find((t) => t.name === 'weekly')
    const expires = Date.parse(weekly?.expires_at ?? '')
    const week = 7 * 24 * 3600 * 1000
    expect(expires).toBeGreaterThanOrEqual(before + week - 1000)
    expect(expires).toBeLessThanOrEqual(Date.now() + week + 1000)

    // carol cannot see alice's tokens: for her, it does not exist.
    expectRefusal(
      await as('carol', ['token:revoke', weekly!.id]),
      3,
      `The token ${weekly!.id} does not exist.`,
    )
    expectRefusal(
      await as('alice', ['token:create', 'bad', '--expires-in-days', '1.5']),
      2,
      '--expires-in-days must be a whole number.',
    )
  })
})

/** When "0 3 * * *" runs next (UTC), as the CLI prints it. */
function nextThreeAm(now = new Date()): string {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 3))
  if (at.getTime() <= now.getTime()) at.setUTCDate(at.getUTCDate() + 1)
  return at.toISOString().replace('.000Z', '+00:00')
}

describe('schedule:create, schedule:list, schedule:delete', () => {
  const ENV = ['-p', 'shop', '-e', 'develop']

  it('creates a schedule, lists it, deletes it', async () => {
    const next = nextThreeAm()
    const created = await as('alice', [
      'schedule:create',
      '0 3 * * *',
      ...ENV,
      '--live',
      '--keep-count',
      '7',
      '--keep-days',
      '30',
    ])
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toBe('')
    const id = /^Created the schedule ([0-9a-f]{16}) of develop; next run (\S+)\.\n$/.exec(
      created.stderr,
    )
    expect(id?.[2], created.stderr).toBe(next)
    const sid = id![1]!

    const [table, json] = await Promise.all([
      as('carol', ['schedule:list', ...ENV]),
      as('alice', ['schedules', ...ENV, '--format', 'json']),
    ])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout.split('\n')).toEqual([
      '+------------------+------+-----------+------+----------------------+---------------------------+',
      '| ID               | Kind | Cron      | Live | Retention            | Next run                  |',
      '+------------------+------+-----------+------+----------------------+---------------------------+',
      `| ${sid} | cron | 0 3 * * * | true | 7 snapshots, 30 days | ${next} |`,
      '+------------------+------+-----------+------+----------------------+---------------------------+',
      '',
    ])
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        id: sid,
        kind: 'cron',
        cron: '0 3 * * *',
        live: true,
        keep_count: 7,
        keep_days: 30,
        next_run_at: next.replace('+00:00', '.000Z'),
        last_run_at: null,
        last_success_at: null,
      }),
    ])

    expectRefusal(
      await as('carol', ['schedule:delete', sid, ...ENV]),
      4,
      'You must be an administrator to schedule snapshots.',
    )
    expectDone(
      await as('alice', ['schedule:delete', sid, ...ENV]),
      `Deleted the schedule ${sid} of develop.`,
    )
    const [empty, emptyJson, again] = await Promise.all([
      as('alice', ['schedule:list', ...ENV]),
      as('alice', ['schedule:list', ...ENV, '--format', 'json']),
      as('alice', ['schedule:delete', sid, ...ENV]),
    ])
    expect({ code: empty.code, stdout: empty.stdout, stderr: empty.stderr }).toEqual({
      code: 0,
      stdout: '',
      stderr: 'No schedules found\n',
    })
    expect(emptyJson.stdout).toBe('[]\n')
    expectRefusal(again, 3, `The schedule ${sid} does not exist.`)
  })

  it('refuses a contributor, a schedule without retention, an unknown environment', async () => {
    const cron = ['schedule:create', '0 3 * * *']
    const [contributor, noRetention, zero, unknown] = await Promise.all([
      as('carol', [...cron, ...ENV, '--keep-count', '7']),
      as('alice', [...cron, ...ENV]),
      as('alice', [...cron, ...ENV, '--keep-days', '0']),
      as('alice', [...cron, '-p', 'shop', '-e', 'nope', '--keep-days', '3']),
    ])
    expectRefusal(contributor, 4, 'You must be an administrator to schedule snapshots.')
    expectRefusal(
      noRetention,
      2,
      'A schedule needs a retention: --keep-count, --keep-days or both.',
    )
    expectRefusal(zero, 2, '--keep-days must be a whole number above 0.')
    expectRefusal(unknown, 3, 'The environment nope does not exist in the project shop.')
  })
})

describe('environment:deactivate, environment:activate, environment:delete', () => {
  const status = async (): Promise<string> =>
    (await as('alice', ['environment:get', 'feature', '-p', 'shop', '-P', 'status'])).stdout

  it('deactivates and activates an environment (by argument or -e)', async () => {
    const [contributor, unknown, before] = await Promise.all([
      as('carol', ['environment:deactivate', 'feature', '-p', 'shop']),
      as('alice', ['environment:activate', 'nope', '-p', 'shop']),
      status(),
    ])
    expectRefusal(contributor, 4, 'You must be an administrator to change the environment.')
    expectRefusal(unknown, 3, 'The environment nope does not exist in the project shop.')
    expect(before).toBe('active\n')
    expectDone(
      await as('alice', ['environment:deactivate', 'feature', '-p', 'shop']),
      'The environment feature is inactive.',
    )
    const [inactive, refused] = await Promise.all([
      status(),
      as('alice', ['backup', '-p', 'shop', '-e', 'feature']),
    ])
    expect(inactive).toBe('inactive\n')
    expect(refused.stderr.split('\n').at(-2)).toBe('coffer: The environment is not active.')
    expect(refused.code).toBe(4)
    expectDone(
      await as('alice', ['environment:activate', '-p', 'shop', '-e', 'feature']),
      'The environment feature is active.',
    )
    expect(await status()).toBe('active\n')
  })

  it('deletes an environment with --yes, by an administrator only', async () => {
    const [unconfirmed, contributor] = await Promise.all([
      as('alice', ['environment:delete', 'feature', '-p', 'shop']),
      as('carol', ['environment:delete', 'feature', '-p', 'shop', '--yes']),
    ])
    expectRefusal(unconfirmed, 2, 'Deleting the environment feature needs --yes to confirm.')
    expectRefusal(contributor, 4, 'You must be an administrator to delete the environment.')
    expectDone(
      await as('alice', ['environment:delete', 'feature', '-p', 'shop', '--yes']),
      'Deleted the environment feature; its snapshots stay in the repository.',
    )
    const [gone, left] = await Promise.all([
      as('alice', ['environment:get', 'feature', '-p', 'shop']),
      as('alice', ['environments', '-p', 'shop', '--format', 'csv', '-c', 'name,status']),
    ])
    expectRefusal(gone, 3, 'The environment feature does not exist in the project shop.')
    expect(left.stdout).toBe('Name,Status\ndevelop,active\nslow,active\n')
  })
})

describe('project:delete', () => {
  it('deletes a project with --yes, by an operator only', async () => {
    const created = await as('admin', ['project:create', 'scratch', '--plan', 'starter'])
    expect(created.code, created.stderr).toBe(0)
    const [admin, unconfirmed] = await Promise.all([
      as('alice', ['project:delete', 'scratch', '--yes']),
      as('admin', ['project:delete', 'scratch']),
    ])
    expectRefusal(admin, 4, 'You must be an operator to delete projects.')
    expectRefusal(unconfirmed, 2, 'Deleting the project scratch needs --yes to confirm.')
    expectDone(
      await as('admin', ['project:delete', 'scratch', '--yes']),
      'Deleted the project scratch; its repository stays.',
    )
    const [gone, again] = await Promise.all([
      as('admin', ['project:get', 'scratch']),
      as('admin', ['project:delete', 'scratch', '--yes']),
    ])
    expectRefusal(gone, 3, 'The project scratch does not exist.')
    expectRefusal(again, 3, 'The project scratch does not exist.')
  })
})

/** The ID of the activity in progress on an environment, once there is one (asked over HTTP). */
async function runningActivity(project: string, env: string): Promise<string> {
  const auth = await readAuth(s.envFor('alice'))
  const url = `${s.url}/api/projects/${project}/environments/${env}/activities?state=in_progress`
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    const r = await fetch(url, { headers: { authorization: `Bearer ${auth?.token}` } })
    const items = ((await r.json()) as { items?: { id: string }[] }).items ?? []
    if (items[0]) return items[0].id
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`no activity in progress on ${project}/${env}`)
}

describe('activity:cancel', () => {
  it('cancels a running snapshot: the command waiting for it ends with exit 5', async () => {
    const waiting = as('alice', ['backup', '-p', 'shop', '-e', 'slow'])
    const id = await runningActivity('shop', 'slow')
    expectRefusal(
      await as('carol', ['activity:cancel', id, '-p', 'shop']),
      4,
      'You must be an administrator to cancel an activity.',
    )
    expectDone(
      await as('alice', ['activity:cancel', id, '-p', 'shop']),
      `Cancellation of the activity ${id} was requested; it stops at the next safe point.`,
    )
    const waited = await waiting
    expect(waited.code).toBe(5)
    expect(waited.stdout).toBe('')
    expect(
      mask(waited.stderr, { [id]: 'ID' })
        .split('\n')
        .slice(-5),
    ).toEqual([
      'The activity was cancelled.',
      '[============================] N secs (cancelled)',
      'Activity ID was cancelled',
      'coffer: The activity ID was cancelled.',
      '',
    ])
    const [json, again, unknown] = await Promise.all([
      as('alice', ['activity:get', id, '-p', 'shop', '--format', 'json']),
      as('alice', ['activity:cancel', id, '-p', 'shop']),
      as('alice', ['activity:cancel', 'deadbeef', '-p', 'shop']),
    ])
    expect(JSON.parse(json.stdout)).toMatchObject({
      id,
      state: 'cancelled',
      result: null,
      cancel_requested: true,
      snapshot: null,
    })
    expectRefusal(again, 4, `The activity ${id} has already finished.`)
    expectRefusal(unknown, 3, 'The activity deadbeef does not exist.')
  })
})

describe('environment:create --mysql-mode', () => {
  const URL_ARG = 'mysql://shop:secret-Pw9@127.0.0.1:1/shop'

  it('creates the environment with the mode for its --mysql services', async () => {
    expectDone(
      await as('admin', [
        'environment:create',
        'shopdb',
        '-p',
        'shop',
        '--type',
        'integration',
        '--mysql',
        URL_ARG,
        '--mysql',
        `orders=${URL_ARG}`,
        '--mysql-mode',
        'auto',
      ]),
      'Created the environment shopdb of shop (type: integration, active).',
    )
    const got = await as('admin', ['environment:get', 'shopdb', '-p', 'shop', '--format', 'json'])
    expect(got.code, got.stderr).toBe(0)
    expect(JSON.parse(got.stdout)).toMatchObject({
      services: [
        { name: 'mysql', kind: 'mysql', url: 'mysql://shop@127.0.0.1:1/shop' },
        { name: 'orders', kind: 'mysql', url: 'mysql://shop@127.0.0.1:1/shop' },
      ],
    })
  })

  it('environment:get shows the mode', async () => {
    const got = await as('admin', ['environment:get', 'shopdb', '-p', 'shop', '-P', 'services'])
    expect(JSON.parse(got.stdout)).toMatchObject([{ mode: 'auto' }, { mode: 'auto' }])
  })

  it('refuses an unknown mode, or a mode without --mysql, before any request', async () => {
    const create = ['environment:create', 'baddb', '-p', 'shop', '--type', 'integration']
    const [unknown, alone] = await Promise.all([
      as('admin', [...create, '--mysql', URL_ARG, '--mysql-mode', 'fast']),
      as('admin', [...create, '--mount', `pub/media=${s.dir}`, '--mysql-mode', 'auto']),
    ])
    expectRefusal(unknown, 2, 'Unknown MySQL mode "fast": choose from logical, physical, auto.')
    expectRefusal(alone, 2, '--mysql-mode applies to --mysql services: give one.')
    expectRefusal(
      await as('admin', ['environment:get', 'baddb', '-p', 'shop']),
      3,
      'The environment baddb does not exist in the project shop.',
    )
  })
})

// Last: carol loses her role here.
describe('user:revoke', () => {
  const access = async (): Promise<string> =>
    (await as('alice', ['user:access', '-p', 'shop', '--format', 'csv'])).stdout

  it('removes an environment override, then the project role', async () => {
    const granted = await as('alice', [
      'user:grant',
      'carol',
      '-p',
      'shop',
      '-e',
      'develop',
      '--role',
      'admin',
    ])
    expect(granted.code, granted.stderr).toBe(0)
    expectRefusal(
      await as('carol', ['user:revoke', 'alice', '-p', 'shop']),
      4,
      'You must be an administrator to manage the users of the project.',
    )
    expectDone(
      await as('alice', ['user:revoke', 'carol', '-p', 'shop', '-e', 'develop']),
      'carol has no role of their own on the environment develop of the project shop any more.',
    )
    expect(await access()).toBe(
      'User,Role,Environment\nalice,admin,(all)\ncarol,contributor,(all)\n',
    )
    expectDone(
      await as('alice', ['user:revoke', 'carol', '-p', 'shop']),
      'carol has no role of their own on the project shop any more.',
    )
    const [left, locked, again, unknown] = await Promise.all([
      access(),
      as('carol', ['environment:get', 'develop', '-p', 'shop']),
      as('alice', ['user:revoke', 'carol', '-p', 'shop']),
      as('alice', ['user:revoke', 'nobody', '-p', 'shop']),
    ])
    expect(left).toBe('User,Role,Environment\nalice,admin,(all)\n')
    expectRefusal(locked, 4, 'You do not have access to the project.')
    expectRefusal(again, 3, 'The user carol has no such role on the project shop.')
    expectRefusal(unknown, 3, 'The user nobody does not exist.')
  })
})

describe('--verbose', () => {
  it('traces each request on stderr (method, URL, status, time), never the token', async () => {
    const quiet = await as('admin', ['project:list', '--format', 'json'])
    const loud = await as('admin', ['project:list', '--format', 'json', '-v'])
    expect(loud.code, loud.stderr).toBe(0)
    expect(loud.stdout).toBe(quiet.stdout)
    expect(quiet.stderr).toBe('')
    expect(loud.stderr).toMatch(
      new RegExp(
        `^> GET ${s.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/api/projects\\S* 200 \\(\\d+ ms\\)\\n$`,
      ),
    )
    expect(loud.stderr).not.toMatch(/Bearer|token/i)
  })
})

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliOnTerminal, finalScreen, mask } from './cli-process.js'
import { ADMIN_PASSWORD, startServe, type ServeProcess } from './serve-process.js'

// The seed's flow end to end, against a real `coffer serve` child process, through the built
// CLI (npm run build first): snapshot an integration environment, list it, change the data,
// restore it, data back. Mounts only (real directories).

const PASSWORD = 'alice-password-Rt55'
let s: ServeProcess
let media: string

const ENV = ['-p', 'shop', '-e', 'develop-branch']

async function seedFiles(): Promise<void> {
  await rm(media, { recursive: true, force: true })
  await mkdir(join(media, 'catalog'), { recursive: true })
  await writeFile(join(media, 'logo.svg'), '<svg>shop</svg>\n')
  await writeFile(join(media, 'catalog', 'p1.jpg'), Buffer.alloc(3000, 7))
}

async function expectSeedFiles(): Promise<void> {
  expect(await readFile(join(media, 'logo.svg'), 'utf8')).toBe('<svg>shop</svg>\n')
  expect(await readFile(join(media, 'catalog', 'p1.jpg'))).toEqual(Buffer.alloc(3000, 7))
  await expect(readFile(join(media, 'added.txt'))).rejects.toThrow(/ENOENT/)
}

async function changeFiles(): Promise<void> {
  await writeFile(join(media, 'logo.svg'), '<svg>defaced</svg>\n')
  await writeFile(join(media, 'added.txt'), 'not in the snapshot\n')
}

beforeAll(async () => {
  s = await startServe('seed-flow')
  media = join(s.dir, 'develop-branch', 'pub-media')
  await seedFiles()
  const admin = await s.run(['auth:login', '--url', s.url, '--user', 'admin', '--password-stdin'], {
    input: `${ADMIN_PASSWORD}\n`,
  })
  expect(admin.stderr).toMatch(/^Signed in to http:\/\/127\.0\.0\.1:\d+ as admin; /)
  const setup: string[][] = [
    ['user:create', 'alice', '--password-stdin'],
    ['project:create', 'shop', '--plan', 'starter', '--title', 'shop'],
    [
      'environment:create',
      'develop-branch',
      '-p',
      'shop',
      '--type',
      'integration',
      '--mount',
      `pub/media=${media}`,
    ],
    ['user:grant', 'alice', '-p', 'shop', '--role', 'admin'],
  ]
  for (const args of setup) {
    const r = await s.run(args, { input: `${PASSWORD}\n` })
    expect(r.code, r.stderr).toBe(0)
  }
  const login = await s.run(['auth:login', '--url', s.url, '--user', 'alice', '--password-stdin'], {
    input: `${PASSWORD}\n`,
    home: 'alice',
  })
  expect(login.code, login.stderr).toBe(0)
}, 180_000)

afterAll(async () => {
  await s?.stop()
})

describe('the seed flow without a terminal', () => {
  it('creates a snapshot, lists it, restores it: the files come back', async () => {
    const created = await s.run(['backup', ...ENV], { home: 'alice' })
    expect(created.code, created.stderr).toBe(0)
    const activity = /Waiting for the activity ([0-9a-f]{8})/.exec(created.stderr)?.[1] ?? ''
    const snapshot = /^Snapshot name: ([0-9a-f]{8})$/m.exec(created.stdout)?.[1] ?? ''
    const ids = { [activity]: 'ACTIVITY', [snapshot]: 'SNAPSHOT' }
    expect(mask(created.stderr, ids).split('\n')).toEqual([
      'Tip: add --no-wait to return at once when running from cron or a script.',
      'Creating a snapshot of develop-branch',
      'Waiting for the activity ACTIVITY (alice created a snapshot of develop-branch):',
      'Capturing 0 database services and 1 mount of develop-branch',
      'Writes were held for N ms (holding N ms, final pass N ms, release N ms)',
      'Created snapshot SNAPSHOT',
      '[============================] N secs (complete)',
      'Activity ACTIVITY succeeded',
      '',
    ])
    expect(mask(created.stdout, ids)).toBe('Snapshot name: SNAPSHOT\n')

    const listed = await s.run(['snapshot:list', ...ENV], { home: 'alice' })
    expect(listed.code).toBe(0)
    expect(listed.stderr).toBe(
      'Snapshots on the project shop (shop), environment develop-branch (type: integration):\n',
    )
    expect(mask(listed.stdout, ids).split('\n')).toEqual([
      '+---------------------------+-------------+------------+',
      '| Created                   | Snapshot ID | Restorable |',
      '+---------------------------+-------------+------------+',
      '| DATE | SNAPSHOT    | true       |',
      '+---------------------------+-------------+------------+',
      '',
    ])

    await changeFiles()
    const refused = await s.run(['snapshot:restore', snapshot, ...ENV], { home: 'alice' })
    expect(refused.code).toBe(2)
    expect(refused.stderr.split('\n').at(-2)).toBe(
      'coffer: Restoring replaces the data of develop-branch: add --yes to confirm without a terminal.',
    )
    expect(await readFile(join(media, 'added.txt'), 'utf8')).toBe('not in the snapshot\n')

    const restored = await s.run(['snapshot:restore', snapshot, ...ENV, '--yes'], { home: 'alice' })
    expect(restored.code, restored.stderr).toBe(0)
    const ra = /Waiting for the activity ([0-9a-f]{8})/.exec(restored.stderr)?.[1] ?? ''
    expect(mask(restored.stderr, { ...ids, [ra]: 'RESTORE' }).split('\n')).toEqual([
      'Snapshot SNAPSHOT of develop-branch, taken DATE (N secs ago), 2.9 KiB',
      'Target environment: develop-branch (its code is not changed)',
      'Mounts:',
      '  pub/media: 2 files, 2.9 KiB; 2 files to change (16 B to write)',
      'To restore: 16 B; estimated time: under a second',
      'Tip: add --no-wait to return at once when running from cron or a script.',
      'Restoring the snapshot SNAPSHOT to develop-branch',
      'Waiting for the activity RESTORE (alice restored the snapshot SNAPSHOT of develop-branch):',
      'Staging mount pub/media',
      'Mount pub/media: 1 file to write, 1 unchanged, 1 to remove',
      'Switched in N ms',
      '[============================] N secs (complete)',
      'Activity RESTORE succeeded',
      '',
    ])
    expect(restored.stdout).toBe('')
    await expectSeedFiles()
  })

  it('--no-wait prints the activity ID at once; the activity completes', async () => {
    const r = await s.run(['snapshot:create', ...ENV, '--no-wait'], { home: 'alice' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^[0-9a-f]{8}\n$/)
    const id = r.stdout.trim()
    // The command has returned; following the log waits for the activity's end.
    const log = await s.run(['activity:log', id, '-p', 'shop', '--follow'], { home: 'alice' })
    expect(log.code, log.stderr).toBe(0)
    expect(mask(log.stdout, {}).split('\n').slice(0, 2)).toEqual([
      'Capturing 0 database services and 1 mount of develop-branch',
      'Writes were held for N ms (holding N ms, final pass N ms, release N ms)',
    ])
    const result = await s.run(['activity:get', id, '-p', 'shop', '-P', 'result'], {
      home: 'alice',
    })
    expect(result.stdout).toBe('success\n')
  })
})

describe('the seed flow on a terminal', () => {
  it('draws a progress bar, asks before restoring, and restores on "y"', async () => {
    await seedFiles()
    const created = await cliOnTerminal(['snapshot:create', ...ENV], { env: s.envFor('alice') })
    expect(created.code).toBe(0)
    const screen = finalScreen(created.screen)
    const activity = /Waiting for the activity ([0-9a-f]{8})/.exec(created.screen)?.[1] ?? ''
    const snapshot = /Snapshot name: ([0-9a-f]{8})/.exec(created.screen)?.[1] ?? ''
    const ids = { [activity]: 'ACTIVITY', [snapshot]: 'SNAPSHOT' }
    expect(screen.map((l) => mask(l, ids))).toEqual([
      'Creating a snapshot of develop-branch',
      'Waiting for the activity ACTIVITY (alice created a snapshot of develop-branch):',
      'Capturing 0 database services and 1 mount of develop-branch',
      'Writes were held for N ms (holding N ms, final pass N ms, release N ms)',
      'Created snapshot SNAPSHOT',
      '[============================] N secs (complete)',
      'Activity ACTIVITY succeeded',
      'Snapshot name: SNAPSHOT',
    ])
    // The bar was drawn while the activity ran (redrawn in place with carriage returns).
    const drawn = new RegExp(
      String.raw`\r\x1b\[K\[[= >]{28}\] \d+ secs? \((pending|in progress|\d+%)\)`,
    )
    expect(created.screen).toMatch(drawn)

    await changeFiles()
    const restored = await cliOnTerminal(['snapshot:restore', ...ENV], {
      env: s.envFor('alice'),
      input: 'y\r',
    })
    expect(restored.code).toBe(0)
    const rs = finalScreen(restored.screen)
    const ra = /Waiting for the activity ([0-9a-f]{8})/.exec(restored.screen)?.[1] ?? ''
    expect(rs.map((l) => mask(l, { ...ids, [ra]: 'RESTORE' }))).toEqual([
      'Snapshot SNAPSHOT of develop-branch, taken DATE (N secs ago), 2.9 KiB',
      'Target environment: develop-branch (its code is not changed)',
      'Mounts:',
      '  pub/media: 2 files, 2.9 KiB; 2 files to change (16 B to write)',
      'To restore: 16 B; estimated time: under a second',
      'Are you sure you want to restore the snapshot SNAPSHOT to develop-branch? [y/N] y',
      'Restoring the snapshot SNAPSHOT to develop-branch',
      'Waiting for the activity RESTORE (alice restored the snapshot SNAPSHOT of develop-branch):',
      'Staging mount pub/media',
      'Mount pub/media: 1 file to write, 1 unchanged, 1 to remove',
      'Switched in N ms',
      '[============================] N secs (complete)',
      'Activity RESTORE succeeded',
    ])
    await expectSeedFiles()
  })

  it('changes nothing when the answer is no', async () => {
    await changeFiles()
    const r = await cliOnTerminal(['snapshot:restore', ...ENV], {
      env: s.envFor('alice'),
      input: 'n\r',
    })
    expect(r.code).toBe(1)
    expect(finalScreen(r.screen).slice(-2)).toEqual([
      expect.stringMatching(
        /^Are you sure you want to restore the snapshot [0-9a-f]{8} to develop-branch\? \[y\/N\] n$/,
      ),
      'coffer: Nothing was changed.',
    ])
    expect(await readFile(join(media, 'added.txt'), 'utf8')).toBe('not in the snapshot\n')
    await seedFiles()
  })
})

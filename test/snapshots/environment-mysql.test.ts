import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend, Repository, TEST_KDF } from '../../src/repo/index.js'
import {
  createEnvironmentSnapshot,
  previewRestore,
  restoreEnvironment,
  type EnvironmentSpec,
} from '../../src/snapshots/index.js'
import { testContext } from '../helpers/op-context.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

// A shop-like environment on the real MariaDB: an orders table whose every row names an
// image file in the media mount. A writer process adds (file, row) pairs without pause,
// except while the environment's maintenance hook holds it — as a shop's maintenance mode
// does. A consistent snapshot must then hold exactly matching rows and files.

const ROOT = { host: '127.0.0.1', port: 3306, user: 'root', password: '' }
const PASSWORD = 'env-mysql-test'

/** The writer: pairs of (image file, order row), pausing at a pair boundary while `flag` exists. */
const WRITER = `
const mysql = require('mysql2/promise')
const fs = require('node:fs')
const [db, dir, flag, ack] = process.argv.slice(1)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
;(async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: db })
  const [[{ n }]] = await c.query('SELECT COALESCE(MAX(id), 0) AS n FROM orders')
  for (let i = Number(n) + 1; ; i++) {
    while (fs.existsSync(flag)) {
      fs.writeFileSync(ack, '')
      await sleep(2)
    }
    fs.writeFileSync(dir + '/order-' + i + '.jpg', Buffer.alloc(2048 + (i % 7) * 1000, i % 251))
    await c.query('INSERT INTO orders (id, image, total) VALUES (?, ?, ?)', [i, 'order-' + i + '.jpg', i * 1.5])
    // A busy shop's pace (a hundred uploads a second), not a disk benchmark.
    await sleep(10)
  }
})().catch((e) => { console.error(e); process.exit(1) })
`

describe('environment snapshots of a database and mounts together', () => {
  const suffix = randomBytes(4).toString('hex')
  const db = `ct_env_${suffix}`
  const otherDb = `ct_env_${suffix}_b`
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let env: EnvironmentSpec
  let other: EnvironmentSpec
  let admin: mysql.Connection
  let writer: ChildProcess | undefined
  let media: string

  beforeAll(async () => {
    tmp = await makeTempDir('env-mysql')
    media = join(tmp.path, 'shop/pub/media')
    await mkdir(media, { recursive: true })
    await mkdir(join(tmp.path, 'other/pub/media'), { recursive: true })
    admin = await mysql.createConnection({ ...ROOT, multipleStatements: true })
    await admin.query(`CREATE DATABASE \`${db}\`; CREATE DATABASE \`${otherDb}\``)
    await admin.query(
      `CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, image VARCHAR(64) NOT NULL, total DECIMAL(12,2)) ENGINE=InnoDB`,
    )
    const flag = join(tmp.path, 'maintenance.flag')
    const ack = join(tmp.path, 'maintenance.ack')
    env = {
      project: 'shop',
      name: 'develop',
      type: 'integration',
      services: [{ name: 'mysql', kind: 'mysql', url: `mysql://root@127.0.0.1:3306/${db}` }],
      mounts: [{ name: 'pub/media', path: media }],
      hooks: {
        hold: `touch ${flag}; while [ ! -e ${ack} ]; do sleep 0.002; done`,
        release: `rm -f ${ack} ${flag}`,
      },
    }
    other = {
      ...env,
      hooks: {},
      name: 'staging',
      services: [{ name: 'mysql', kind: 'mysql', url: `mysql://root@127.0.0.1:3306/${otherDb}` }],
      mounts: [{ name: 'pub/media', path: join(tmp.path, 'other/pub/media') }],
    }
    repo = await Repository.init({
      backend: await LocalBackend.open(join(tmp.path, 'repo')),
      password: PASSWORD,
      kdf: TEST_KDF,
    })
  })

  afterAll(async () => {
    writer?.kill('SIGKILL')
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\`; DROP DATABASE IF EXISTS \`${otherDb}\``)
    await admin.end()
    await tmp.cleanup()
  })

  const startWriter = async (): Promise<ChildProcess> => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        WRITER,
        db,
        media,
        join(tmp.path, 'maintenance.flag'),
        join(tmp.path, 'maintenance.ack'),
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
    // Let it write a few hundred pairs first.
    for (let i = 0; i < 200; i++) {
      const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM \`${db}\`.orders`)
      if (Number((rows as { n: number }[])[0]!.n) >= 200) break
      await new Promise((r) => setTimeout(r, 50))
    }
    return child
  }

  const stopWriter = async (): Promise<void> => {
    const w = writer
    writer = undefined
    if (!w || w.exitCode !== null) return
    const exited = new Promise((r) => w.once('exit', r))
    w.kill('SIGKILL')
    await exited
  }

  // Without the writer, the maintenance hook would wait for it forever.
  const quiet = (): EnvironmentSpec => ({ ...env, hooks: {} })

  const ordersOf = async (database: string): Promise<string[]> => {
    const [rows] = await admin.query(`SELECT image FROM \`${database}\`.orders ORDER BY id`)
    return (rows as { image: string }[]).map((r) => r.image)
  }
  const imagesIn = async (dir: string): Promise<string[]> => {
    const names = (await readdir(dir)).filter((n) => /^order-\d+\.jpg$/.test(n))
    return names.sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]))
  }

  it('takes a consistent snapshot under a running writer: rows and files of one moment', async () => {
    writer = await startWriter()
    const ctx = testContext()
    const info = await createEnvironmentSnapshot(
      repo,
      env,
      { live: false, automated: false, createdBy: 'alice' },
      ctx,
    )
    await stopWriter()
    const held = ctx.lines.find((l) => l.startsWith('Writes were held for'))
    expect(held, ctx.lines.join('\n')).toMatch(/^Writes were held for \d+ ms \(/)
    // The pause recorded is the one logged (its length is the env benchmark's to measure).
    expect(info.pauseMs).toBe(Number(/held for (\d+) ms/.exec(held!)![1]))

    // Restored into another environment: every order row has its image and vice versa.
    const result = await restoreEnvironment(repo, info.id, other, [], testContext())
    expect(result.tablesReloaded).toBe(1)
    const rows = await ordersOf(otherDb)
    const files = await imagesIn(other.mounts[0]!.path)
    expect(rows.length).toBeGreaterThanOrEqual(200)
    expect(files).toEqual(rows)
  })

  it('restores database and files in place after both changed, and previews it first', async () => {
    const ctx = testContext()
    const info = await createEnvironmentSnapshot(
      repo,
      quiet(),
      { live: false, automated: false, createdBy: 'alice' },
      ctx,
    )
    const before = await ordersOf(db)
    const filesBefore = await imagesIn(media)
    await admin.query(`DELETE FROM \`${db}\`.orders WHERE id % 10 = 0`)
    await admin.query(`UPDATE \`${db}\`.orders SET total = total + 1 WHERE id % 7 = 0`)
    await admin.query(`CREATE TABLE \`${db}\`.extra (id INT PRIMARY KEY)`)
    await writeFile(join(media, 'order-1.jpg'), 'changed')
    await writeFile(join(media, 'stray.jpg'), 'not in the snapshot')

    const preview = await previewRestore(repo, info.id, quiet(), [], testContext())
    expect(preview.databases).toEqual([
      expect.objectContaining({ service: 'mysql', database: db, tables: 1 }),
    ])
    expect(preview.mounts).toEqual([expect.objectContaining({ mount: 'pub/media' })])

    await restoreEnvironment(repo, info.id, quiet(), [], testContext())
    expect(await ordersOf(db)).toEqual(before)
    expect(await imagesIn(media)).toEqual(filesBefore)
    expect(await readdir(media)).not.toContain('stray.jpg')
    const [extra] = await admin.query(
      `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '${db}' AND table_name = 'extra'`,
    )
    expect(Number((extra as { n: number }[])[0]!.n)).toBe(0)
  })

  it("removes the mount's old version after the hold is released, not inside it", async () => {
    const info = await createEnvironmentSnapshot(
      repo,
      quiet(),
      { live: false, automated: false },
      testContext(),
    )
    await writeFile(join(media, 'order-2.jpg'), 'changed again')
    const parent = join(media, '..')
    const atRelease = join(tmp.path, 'at-release.txt')
    const hooked: EnvironmentSpec = {
      ...quiet(),
      hooks: { hold: 'true', release: `ls -a ${parent} > ${atRelease}` },
    }
    await restoreEnvironment(repo, info.id, hooked, [], testContext())
    // The whole-mount switch moved the old version aside; it was still there at release…
    const listed = (await readFile(atRelease, 'utf8')).split('\n')
    expect(listed.filter((n) => n.startsWith('.coffer-old-'))).toHaveLength(1)
    // …and is gone once the restore is done, with the rest of the switch's work areas.
    expect((await readdir(parent)).filter((n) => n.startsWith('.coffer-'))).toEqual([])
    expect(await readFile(join(media, 'order-2.jpg'), 'utf8')).not.toBe('changed again')
  })

  it('stores the table unchanged since the last consistent snapshot without reading it, a live one in between', async () => {
    // The server vouches for a table changed before the second its capture locks in.
    await new Promise((r) => setTimeout(r, 1100))
    await createEnvironmentSnapshot(repo, quiet(), { live: false, automated: false }, testContext())
    // A live snapshot records no fingerprints: the next capture looks past it.
    await createEnvironmentSnapshot(repo, quiet(), { live: true, automated: false }, testContext())
    const ctx = testContext()
    const info = await createEnvironmentSnapshot(
      repo,
      quiet(),
      { live: false, automated: false },
      ctx,
    )
    expect(ctx.lines).toContain(
      'Database service mysql: 1 table unchanged since the last consistent snapshot, stored without reading them',
    )
    const before = await ordersOf(db)
    await admin.query(`DELETE FROM \`${db}\`.orders WHERE id % 3 = 0`)
    await restoreEnvironment(repo, info.id, quiet(), [], testContext())
    expect(await ordersOf(db)).toEqual(before)
  })

  it('leaves database and files as they were when a mount cannot be staged beside the database', async () => {
    // Mounts are staged while the databases are: one failing side must roll the other back.
    const info = await createEnvironmentSnapshot(
      repo,
      quiet(),
      { live: false, automated: false },
      testContext(),
    )
    const before = await ordersOf(db)
    await admin.query(`DELETE FROM \`${db}\`.orders WHERE id % 4 = 0`)
    const changedRows = await ordersOf(db)
    const blocked = join(tmp.path, 'blocked')
    await writeFile(blocked, 'a file where the mount should be a directory')
    const broken: EnvironmentSpec = { ...quiet(), mounts: [{ name: 'pub/media', path: blocked }] }
    await expect(restoreEnvironment(repo, info.id, broken, [], testContext())).rejects.toThrow()
    expect(await ordersOf(db)).toEqual(changedRows)
    expect(await readFile(blocked, 'utf8')).toBe('a file where the mount should be a directory')
    const [side] = await admin.query(
      `SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${db}\\_\\_coffer\\_%'`,
    )
    expect(side).toEqual([])
    expect((await readdir(tmp.path)).filter((n) => n.includes('coffer'))).toEqual([])
    // With the mount where it belongs, the same restore goes through.
    await restoreEnvironment(repo, info.id, quiet(), [], testContext())
    expect(await ordersOf(db)).toEqual(before)
  })

  it('restores only the database when told so, leaving the files as they are', async () => {
    const info = await createEnvironmentSnapshot(
      repo,
      env,
      { live: true, automated: false },
      testContext(),
    )
    await admin.query(`DELETE FROM \`${db}\`.orders WHERE id < 5`)
    await writeFile(join(media, 'after.jpg'), 'kept')
    await restoreEnvironment(repo, info.id, quiet(), [{ kind: 'services' }], testContext())
    const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM \`${db}\`.orders WHERE id < 5`)
    expect(Number((rows as { n: number }[])[0]!.n)).toBe(4)
    expect(await readdir(media)).toContain('after.jpg')
  })
})

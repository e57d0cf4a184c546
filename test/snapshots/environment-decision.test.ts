import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend, Repository, TEST_KDF } from '../../src/repo/index.js'
import {
  cleanupStaging,
  createEnvironmentSnapshot,
  type EnvironmentSpec,
  type RestoreCommitRecord,
} from '../../src/snapshots/index.js'
import type { EnvRestoreJob } from '../helpers/env-restore-child.js'
import { testContext } from '../helpers/op-context.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const ROOT = { host: '127.0.0.1', port: 3306, user: 'root', password: '' }
const PASSWORD = 'env-decision-test'
const CHILD = fileURLToPath(new URL('../helpers/env-restore-child.ts', import.meta.url))

/** Runs the restore in a child process that kills itself at `killAt`; resolves its signal. */
function restoreKilledAt(job: EnvRestoreJob): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, COFFER_TEST_RESTORE: JSON.stringify(job) },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  return new Promise((resolve) => child.on('exit', (_, signal) => resolve(signal)))
}

// An environment restore is decided when every part (database and mount) is staged and the
// hold is taken: its commit point records which parts there are, before any of them commits
// or switches. A process killed after that — before the databases switch, between the
// databases' switch and the mounts', after a mount — is finished by the staging cleanup with
// the record: the whole environment ends as the snapshot. Killed before it, it ends as it
// was. Never new rows with old files.
describe('environment restore decision', { timeout: 120_000 }, () => {
  const db = `ct_dec_${randomBytes(4).toString('hex')}`
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let env: EnvironmentSpec
  let media: string
  let etc: string
  let admin: mysql.Connection
  let snapshot: string

  const state = async (): Promise<{ rows: unknown; media: string[]; etc: string }> => {
    const [rows] = await admin.query(`SELECT id, image FROM \`${db}\`.orders ORDER BY id`)
    return {
      rows,
      media: (await readdir(media)).sort(),
      etc: await readFile(join(etc, 'env.php'), 'utf8'),
    }
  }
  const sideDatabases = async (): Promise<string[]> => {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [`${db}\\_\\_coffer\\_%`],
    )
    return rows.map((r) => String(r.n))
  }
  /** Changes rows and files, so that a restore has every part to switch. */
  const change = async (): Promise<void> => {
    await admin.query(`DELETE FROM \`${db}\`.orders WHERE id > 3`)
    await admin.query(`INSERT INTO \`${db}\`.orders VALUES (99, 'late.jpg')`)
    await writeFile(join(media, 'late.jpg'), 'late')
    await rm(join(media, 'order-5.jpg'))
    await writeFile(join(etc, 'env.php'), '<?php // changed')
  }

  beforeAll(async () => {
    tmp = await makeTempDir('env-decision')
    media = join(tmp.path, 'shop/pub/media')
    etc = join(tmp.path, 'shop/app/etc')
    await mkdir(media, { recursive: true })
    await mkdir(etc, { recursive: true })
    admin = await mysql.createConnection({ ...ROOT, multipleStatements: true })
    await admin.query(
      `CREATE DATABASE \`${db}\`;
       CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, image VARCHAR(64) NOT NULL);
       INSERT INTO \`${db}\`.orders SELECT seq, CONCAT('order-', seq, '.jpg') FROM \`${db}\`.seq_1_to_8;`,
    )
    for (let i = 1; i <= 8; i++) await writeFile(join(media, `order-${i}.jpg`), `image ${i}`)
    await writeFile(join(etc, 'env.php'), '<?php // snapshot')
    env = {
      project: 'shop',
      name: 'develop',
      type: 'integration',
      services: [{ name: 'mysql', kind: 'mysql', url: `mysql://root@127.0.0.1:3306/${db}` }],
      mounts: [
        { name: 'pub/media', path: media },
        { name: 'app/etc', path: etc },
      ],
    }
    repo = await Repository.init({
      backend: await LocalBackend.open(join(tmp.path, 'repo')),
      password: PASSWORD,
      kdf: TEST_KDF,
    })
    snapshot = (
      await createEnvironmentSnapshot(repo, env, { live: false, automated: false }, testContext())
    ).id
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    for (const s of await sideDatabases()) await admin.query(`DROP DATABASE \`${s}\``)
    await admin.end()
    await tmp.cleanup()
  })

  const job = (killAt: EnvRestoreJob['killAt']): EnvRestoreJob => ({
    repo: join(tmp.path, 'repo'),
    password: PASSWORD,
    snapshot,
    env,
    recordFile: join(tmp.path, 'decision.json'),
    killAt,
  })

  it.each(['record', 'database switched in', 'mount switched'] as const)(
    'finishes every part of a restore killed at "%s"',
    async (killAt) => {
      await change()
      const before = await state()
      expect(await restoreKilledAt(job(killAt))).toBe('SIGKILL')
      const decided = JSON.parse(
        await readFile(join(tmp.path, 'decision.json'), 'utf8'),
      ) as RestoreCommitRecord
      expect(decided.mounts.map((m) => m.name).sort()).toEqual(['app/etc', 'pub/media'])
      expect(decided.services.map((x) => x.name)).toEqual(['mysql'])
      expect(decided.services[0]?.journal).toMatch(/^ct_dec_.*__coffer_jrnl_[0-9a-f]{8}$/)
      // The record names no connection detail.
      expect(JSON.stringify(decided)).not.toContain('127.0.0.1')

      const ctx = testContext()
      await cleanupStaging(env, ctx, decided)
      const after = await state()
      expect(after).not.toEqual(before)
      expect(after.media).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `order-${i}.jpg`).sort())
      expect(after.rows).toHaveLength(8)
      expect(after.etc).toBe('<?php // snapshot')
      expect(await sideDatabases()).toEqual([])
      expect((await readdir(media)).filter((n) => n.startsWith('.coffer'))).toEqual([])
      await rm(join(tmp.path, 'decision.json'))
    },
  )

  it('leaves the environment as it was when killed before the decision', async () => {
    await change()
    const before = await state()
    // Every part staged and the hold taken, the record not written: nothing was decided.
    expect(await restoreKilledAt(job('before-record'))).toBe('SIGKILL')
    expect(await state()).toEqual(before)
    // What it staged is removed, nothing switched in.
    await cleanupStaging(env, testContext())
    expect(await state()).toEqual(before)
    expect(await sideDatabases()).toEqual([])
    expect((await readdir(media)).filter((n) => n.startsWith('.coffer'))).toEqual([])
    expect(
      (await readdir(join(tmp.path, 'shop/pub'))).filter((n) => n.startsWith('.coffer')),
    ).toEqual([])
  })
})

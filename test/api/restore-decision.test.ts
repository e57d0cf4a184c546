import { spawn } from 'node:child_process'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { environmentSpec } from '../../src/control/environment-spec.js'
import { projectRepository } from '../../src/control/index.js'
import type { EnvRestoreJob } from '../helpers/env-restore-child.js'
import { createShopWithMedia } from '../helpers/api-fixtures.js'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'

const CHILD = fileURLToPath(new URL('../helpers/env-restore-child.ts', import.meta.url))

// docs/OPERATIONS.md, "Restores are all or nothing": a restore process that dies after its
// decision leaves the decision in the environment's row; the next activity on that
// environment finishes the restore before doing its own work, and clears the row.
describe.each(['sqlite', 'postgres'] as const)('a pending restore decision on %s', (dialect) => {
  let s: TestServer
  let token: string
  beforeAll(async () => {
    s = await startTestServer(dialect, `decision-${dialect}`)
    token = await s.login('admin', ADMIN_PASSWORD)
  })
  afterAll(() => s.stop())

  it('is finished by the next activity on the environment, then cleared', async () => {
    const media = await createShopWithMedia(s, token)
    let r = await s.call('POST', '/api/projects/shop/environments/develop/backups', {
      token,
      body: {},
    })
    const backup = await s.waitActivity('shop', (r.json as { id: string }).id, token)
    expect(backup).toMatchObject({ state: 'complete', result: 'success' })
    await writeFile(join(media, 'a.txt'), 'two')
    await writeFile(join(media, 'b.txt'), 'new')

    // A restore killed right after it recorded its decision, as the worker would run it.
    const { control } = s.coffer
    const db = control.store.db
    const project = await db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', 'shop')
      .executeTakeFirstOrThrow()
    const env = await db
      .selectFrom('environments')
      .selectAll()
      .where('project_id', '=', 'shop')
      .where('name', '=', 'develop')
      .executeTakeFirstOrThrow()
    const snap = await db
      .selectFrom('snapshots')
      .select('full_id')
      .where('project_id', '=', 'shop')
      .executeTakeFirstOrThrow()
    const target = projectRepository(project, control)
    const recordFile = join(s.dir, 'decision.json')
    const job: EnvRestoreJob = {
      repo: target.location,
      password: target.password,
      snapshot: snap.full_id,
      env: environmentSpec(env, control),
      recordFile,
      killAt: 'record',
    }
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, COFFER_TEST_RESTORE: JSON.stringify(job) },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    const signal = await new Promise((resolve) => child.on('exit', (_, sig) => resolve(sig)))
    expect(signal).toBe('SIGKILL')
    await db
      .updateTable('environments')
      .set({ restore_decision: await readFile(recordFile, 'utf8') })
      .where('project_id', '=', 'shop')
      .where('name', '=', 'develop')
      .execute()
    // Nothing switched yet: the mount is as the user left it, with the staged restore beside.
    expect(await readFile(join(media, 'a.txt'), 'utf8')).toBe('two')

    r = await s.call('POST', '/api/projects/shop/environments/develop/backups', { token, body: {} })
    expect(r.status, r.text).toBe(202)
    const next = await s.waitActivity('shop', (r.json as { id: string }).id, token)
    expect(next).toMatchObject({ state: 'complete', result: 'success' })
    expect(await readFile(join(media, 'a.txt'), 'utf8')).toBe('one')
    expect((await readdir(media)).sort()).toEqual(['a.txt'])
    expect((await readdir(join(s.dir, 'shop/pub'))).filter((n) => n.startsWith('.coffer'))).toEqual(
      [],
    )
    const after = await db
      .selectFrom('environments')
      .select('restore_decision')
      .where('project_id', '=', 'shop')
      .where('name', '=', 'develop')
      .executeTakeFirstOrThrow()
    expect(after.restore_decision).toBeNull()
    expect(s.watch.leaks()).toEqual([])
  })
})

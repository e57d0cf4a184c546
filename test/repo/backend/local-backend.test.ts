import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalBackend } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import { backendConformance } from './backend-suite.js'

backendConformance('local directory', async () => {
  const tmp = await makeTempDir('local-backend')
  return { backend: await LocalBackend.open(join(tmp.path, 'repo')), cleanup: tmp.cleanup }
})

describe('LocalBackend layout', () => {
  it("uses restic's layout and modes: data/xx/<id>, read-only 0400 files, 0700 directories", async () => {
    const tmp = await makeTempDir('local-layout')
    try {
      const be = await LocalBackend.open(join(tmp.path, 'repo'))
      await be.create()
      const name = 'ab' + '0'.repeat(62)
      await be.save({ type: 'data', name }, Buffer.from('pack'))
      const file = join(tmp.path, 'repo', 'data', 'ab', name)
      expect((await stat(file)).mode & 0o777).toBe(0o400)
      expect((await stat(join(tmp.path, 'repo', 'data'))).mode & 0o777).toBe(0o700)
      expect((await readdir(join(tmp.path, 'repo'))).sort()).toEqual([
        'data',
        'index',
        'keys',
        'locks',
        'snapshots',
        'tmp',
      ])
      expect(await readdir(join(tmp.path, 'repo', 'data', 'ab'))).toEqual([name])
    } finally {
      await tmp.cleanup()
    }
  })
})

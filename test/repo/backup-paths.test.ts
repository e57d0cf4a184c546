import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeTree, diffTrees } from '../helpers/dir-snapshot.js'
import { resticOk } from '../helpers/restic.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'backup-paths'
const env = { COFFER_PASSWORD: PASSWORD }

// Paths given twice, or one inside another (`repo:backup /srv/shop /srv/shop/pub`), are each
// walked once, as restic walks them; before, the backup failed with "adding to a directory
// that is already sealed".
describe('repo:backup of paths that overlap', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  const repo = (): string => join(tmp.path, 'repo')

  beforeAll(async () => {
    tmp = await makeTempDir('backup-paths')
    await mkdir(join(tmp.path, 'shop/pub/media'), { recursive: true })
    await writeFile(join(tmp.path, 'shop/index.php'), '<?php\n')
    await writeFile(join(tmp.path, 'shop/pub/media/a.jpg'), 'image')
    const init = await runCoffer(['repo:init', '--repo', repo(), '--kdf', '1024,8,1'], { env })
    expect(init.code, init.stderr).toBe(0)
  })
  afterAll(() => tmp.cleanup())

  it('stores each file once and lists every path given', async () => {
    const shop = join(tmp.path, 'shop')
    const media = join(shop, 'pub/media')
    const r = await runCoffer(['repo:backup', '--repo', repo(), '--json', shop, media, shop], {
      env,
    })
    expect(r.code, r.stderr).toBe(0)
    const id = (JSON.parse(r.stdout) as { snapshot_id: string }).snapshot_id
    const [snap] = JSON.parse(await resticOk(repo(), PASSWORD, ['snapshots', '--json'])) as {
      paths: string[]
    }[]
    expect(snap!.paths).toEqual([shop, shop, media].sort())
    await resticOk(repo(), PASSWORD, ['check', '--read-data'])
    const target = join(tmp.path, 'restored')
    await resticOk(repo(), PASSWORD, ['restore', id, '--target', target])
    expect(diffTrees(await describeTree(join(target, shop)), await describeTree(shop))).toEqual([])
  })
})

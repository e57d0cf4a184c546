import { existsSync, lstatSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { removeTree } from '../../../src/capture/files/remove-tree.js'

describe('removeTree', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-remove-tree-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('removes a tree of files, links, empty and deep directories and odd names', async () => {
    const root = join(dir, 'tree')
    let deep = root
    for (let i = 0; i < 40; i++) deep = join(deep, `d${i}`)
    await mkdir(deep, { recursive: true })
    await mkdir(join(root, 'empty'))
    await writeFile(join(deep, 'leaf'), 'x')
    for (let i = 0; i < 3000; i++) await writeFile(join(root, `f${i}`), String(i))
    const odd = Buffer.concat([Buffer.from(join(root, 'odd-')), Buffer.from([0xff, 0x0a, 0x5c])])
    await writeFile(odd, 'not utf-8')
    await symlink('f1', join(root, 'link'))
    await removeTree(root)
    expect(existsSync(root)).toBe(false)
    expect(await readdir(dir)).toEqual([])
  })

  it('removes symlinks without following them', async () => {
    const outside = join(dir, 'outside')
    await mkdir(outside)
    await writeFile(join(outside, 'keep'), 'kept')
    const root = join(dir, 'tree')
    await mkdir(join(root, 'sub'), { recursive: true })
    await symlink(outside, join(root, 'to-dir'))
    await symlink(join(outside, 'keep'), join(root, 'sub', 'to-file'))
    await removeTree(root)
    expect(existsSync(root)).toBe(false)
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('kept')
  })

  it('accepts a root that does not exist, and removes a root that is a file or a symlink', async () => {
    await removeTree(join(dir, 'missing'))
    const file = join(dir, 'file')
    await writeFile(file, 'x')
    await removeTree(file)
    expect(existsSync(file)).toBe(false)
    const target = join(dir, 'target')
    await mkdir(target)
    await writeFile(join(target, 'keep'), 'kept')
    await symlink(target, join(dir, 'link'))
    await removeTree(join(dir, 'link'))
    expect(lstatSync(target).isDirectory()).toBe(true)
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('kept')
    expect(existsSync(join(dir, 'link'))).toBe(false)
  })
})

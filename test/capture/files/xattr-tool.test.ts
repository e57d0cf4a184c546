import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { readXattrTree, readXattrsOf, writeXattrs } from '../../../src/capture/files/xattr-tool.js'
import { formatDump, parseDump } from '../../../src/capture/files/xattr-dump.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const attr = (name: string, value: string | Buffer) => ({
  name,
  value: typeof value === 'string' ? Buffer.from(value) : value,
})

describe('extended attributes through setfattr and getfattr', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  beforeAll(async () => {
    tmp = await makeTempDir('xattr-tool')
  })
  afterAll(() => tmp.cleanup())

  const files = async (names: string[]): Promise<Buffer[]> => {
    const paths = names.map((n) => Buffer.from(join(tmp.path, n)))
    for (const p of paths) await writeFile(p, 'x')
    return paths
  }

  it('sets an empty value even when it is the first value of the batch', async () => {
    // setfattr skipped such an attribute (with status 0 once a later one was set).
    const [a, b, c] = await files(['empty-first', 'empty-second', 'empty-only'])
    await writeXattrs([
      { path: a!, attrs: [attr('user.empty', ''), attr('user.next', 'v')] },
      { path: b!, attrs: [attr('user.empty', '')] },
    ])
    await writeXattrs([{ path: c!, attrs: [attr('user.empty', '')] }])
    const got = await readXattrsOf([a!, b!, c!])
    expect(got?.get(a!.toString('latin1'))).toEqual([
      attr('user.empty', ''),
      attr('user.next', 'v'),
    ])
    expect(got?.get(b!.toString('latin1'))).toEqual([attr('user.empty', '')])
    expect(got?.get(c!.toString('latin1'))).toEqual([attr('user.empty', '')])
  })

  it('round-trips binary values and names and paths of awkward bytes', async () => {
    const [p] = await files(['odd name=\n\\ \xe9'])
    const value = Buffer.from([0, 1, 2, 0x0a, 0x3d, 0x5c, 0xff])
    const attrs = [attr('user.bin', value), attr('user.sp ace=eq', '"quoted"')]
    await writeXattrs([{ path: p!, attrs }])
    const got = await readXattrsOf([p!])
    expect(got?.get(p!.toString('latin1'))).toEqual(attrs)
    // The dump written for setfattr parses back to the same attributes.
    expect(parseDump(formatDump([{ path: p!, attrs }]))).toEqual(
      new Map([[p!.toString('latin1'), attrs]]),
    )
  })

  it('fails with the tool message when a path does not exist', async () => {
    const missing = Buffer.from(join(tmp.path, 'missing'))
    await expect(writeXattrs([{ path: missing, attrs: [attr('user.a', 'b')] }])).rejects.toThrow(
      /^Cannot set extended attributes: .*No such file or directory/,
    )
  })

  it('reads no attributes, without failing, where getfattr is not installed', async () => {
    const [p] = await files(['without-tool'])
    await writeXattrs([{ path: p!, attrs: [attr('user.a', 'b')] }])
    // A PATH with xargs but no getfattr, seen by a fresh copy of the module.
    const bin = join(tmp.path, 'bin')
    await mkdir(bin)
    await symlink('/usr/bin/xargs', join(bin, 'xargs'))
    const path = process.env.PATH
    process.env.PATH = bin
    try {
      vi.resetModules()
      const fresh = await import('../../../src/capture/files/xattr-tool.js')
      expect(await fresh.readXattrTree(Buffer.from(tmp.path))).toBeUndefined()
      expect(await fresh.xattrToolsAvailable()).toBe(false)
    } finally {
      process.env.PATH = path
    }
    // With the tool, the same tree's attributes are read.
    const got = await readXattrTree(Buffer.from(tmp.path))
    expect(got?.get(p!.toString('latin1'))).toEqual([attr('user.a', 'b')])
  })
})

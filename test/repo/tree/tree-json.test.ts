import { describe, expect, it } from 'vitest'
import { decodeTree, encodeTree } from '../../../src/repo/tree/index.js'

const ID = 'ab'.repeat(32)

/** A file node as restic 0.14 writes it (every field restic has for a regular file). */
const resticFile = {
  name: 'f\\xffe.txt',
  type: 'file',
  mode: 420,
  mtime: '2024-05-06T07:08:09.123456789+02:00',
  atime: '2024-05-06T07:08:09.123456789+02:00',
  ctime: '2024-05-06T07:08:10+02:00',
  uid: 1000,
  gid: 1000,
  user: 'app',
  group: 'app',
  inode: 1234567,
  device_id: 2049,
  size: 5,
  links: 1,
  content: [ID],
  extended_attributes: [{ name: 'user.a', value: 'eHl6' }],
  future_field: { ignored: true },
}

const tree = (nodes: unknown): Buffer => Buffer.from(JSON.stringify({ nodes }))

describe('tree JSON', () => {
  it('decodes restic’s nodes, ignores fields it does not know, and encodes them back the same', () => {
    const dir = { name: 'd', type: 'dir', mode: 2147484141, subtree: ID, content: null }
    const link = {
      name: 'l',
      type: 'symlink',
      linktarget_raw: Buffer.from([0x61, 0xff]).toString('base64'),
    }
    const nodes = decodeTree(tree([resticFile, dir, link]))
    expect(nodes).toHaveLength(3)
    const [f, d, l] = nodes
    expect(Buffer.from(f!.name)).toEqual(Buffer.from([0x66, 0xff, 0x65, 0x2e, 0x74, 0x78, 0x74]))
    expect(f).toMatchObject({ type: 'file', mode: 420, uid: 1000, size: 5, inode: 1234567n })
    expect(f!.content).toEqual([ID])
    expect(Buffer.from(f!.extendedAttributes![0]!.value).toString()).toBe('xyz')
    expect(d).toMatchObject({ type: 'dir', subtree: ID, content: null })
    expect(Buffer.from(l!.linkTarget!)).toEqual(Buffer.from([0x61, 0xff]))
    expect(decodeTree(encodeTree(nodes))).toEqual(nodes)
    expect(decodeTree(Buffer.from('{"nodes":null}'))).toEqual([])
  })

  it.each([
    ['no nodes', '{}', /"nodes"/],
    ['nodes not a list', '{"nodes":{}}', /"nodes" is not an array/],
    ['a node that is not an object', tree([1]).toString(), /node 0: the node is not an object/],
    ['no name', tree([{ type: 'file' }]).toString(), /node 0: name is not a string/],
    ['an unknown type', tree([{ name: 'a', type: 'door' }]).toString(), /node 0: type/],
    [
      'a negative size',
      tree([{ name: 'a', type: 'file', size: -1 }]).toString(),
      /size is not a non-negative integer/,
    ],
    ['a fractional uid', tree([{ name: 'a', type: 'file', uid: 1.5 }]).toString(), /uid/],
    [
      'a time that is not a string',
      tree([{ name: 'a', type: 'file', mtime: 5 }]).toString(),
      /mtime is not a string/,
    ],
    [
      'a content ID that is not one',
      tree([{ name: 'a', type: 'file', content: ['xyz'] }]).toString(),
      /content is not a list of blob IDs/,
    ],
    [
      'a subtree ID that is not one',
      tree([{ name: 'a', type: 'dir', subtree: ID.toUpperCase() }]).toString(),
      /subtree is not a tree ID/,
    ],
    [
      'an attribute without a name',
      tree([{ name: 'a', type: 'file', extended_attributes: [{ value: 'eA==' }] }]).toString(),
      /extended_attributes/,
    ],
    [
      'an attribute value that is not base64 text',
      tree([
        { name: 'a', type: 'file', extended_attributes: [{ name: 'x', value: 3 }] },
      ]).toString(),
      /extended_attributes/,
    ],
    [
      'a second node that is wrong',
      tree([resticFile, { name: 'b', type: 'file', links: '2' }]).toString(),
      /node 1: links/,
    ],
  ])('refuses %s', (_what, json, message) => {
    expect(() => decodeTree(Buffer.from(json))).toThrow(message)
  })
})

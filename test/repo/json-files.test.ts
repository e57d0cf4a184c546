import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/repo/config.js'
import { parseKeyFile } from '../../src/repo/crypto/index.js'
import type { LockId, SnapshotId } from '../../src/repo/id.js'
import { parseIndexFile } from '../../src/repo/index/index.js'
import { parseLock } from '../../src/repo/lock.js'
import { parseSnapshot } from '../../src/repo/snapshot.js'

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))
const ID = 'ab'.repeat(32)
const ID2 = 'cd'.repeat(32)

describe('repository JSON files, checked field by field', () => {
  it('reads a snapshot as restic writes it, with Go nulls and a summary', () => {
    const s = parseSnapshot(
      json({
        time: '2024-05-01T10:00:00.123456789+02:00',
        parent: null,
        tree: ID,
        paths: ['/srv/a'],
        hostname: 'h',
        username: 'u',
        uid: 1000,
        gid: 1000,
        excludes: null,
        tags: null,
        program_version: 'restic 0.17.3',
        summary: {
          backup_start: '2024-05-01T10:00:00Z',
          backup_end: '2024-05-01T10:00:01Z',
          files_new: 3,
        },
        unknown_field: { ignored: true },
      }),
      ID2 as SnapshotId,
    )
    expect(s).toMatchObject({ id: ID2, tree: ID, paths: ['/srv/a'], hostname: 'h', uid: 1000 })
    expect(s.parent).toBeUndefined()
    expect(s.tags).toBeUndefined()
    expect(s.summary).toMatchObject({ filesNew: 3, filesChanged: 0, totalBytesProcessed: 0 })
    expect(
      parseSnapshot(json({ time: '2024-05-01T10:00:00Z', tree: ID }), ID2 as SnapshotId).paths,
    ).toEqual([])
  })

  it('refuses a snapshot field of the wrong type, naming it', () => {
    const base = { time: '2024-05-01T10:00:00Z', tree: ID }
    const bad =
      (v: object): (() => unknown) =>
      () =>
        parseSnapshot(json({ ...base, ...v }), ID2 as SnapshotId)
    expect(bad({ tree: 'xyz' })).toThrow('the snapshot: tree is not an ID')
    expect(bad({ parent: 7 })).toThrow('the snapshot: parent is not an ID')
    expect(bad({ tags: ['a', 1] })).toThrow('the snapshot: tags is not a list of strings')
    expect(bad({ uid: -1 })).toThrow('the snapshot: uid is not a non-negative integer')
    expect(bad({ summary: { backup_start: 1, backup_end: 'x' } })).toThrow(
      'the snapshot: summary: backup_start is not a string',
    )
    expect(() => parseSnapshot(json([base]), ID2 as SnapshotId)).toThrow(
      'the snapshot is not a JSON object',
    )
  })

  it('reads an index with null lists and refuses a bad blob, naming where', () => {
    const blob = { id: ID, type: 'data', offset: 0, length: 100, uncompressed_length: 300 }
    const idx = parseIndexFile(
      json({
        supersedes: null,
        packs: [
          { id: ID2, blobs: [blob] },
          { id: ID, blobs: null },
        ],
      }),
    )
    expect(idx.supersedes).toEqual([])
    expect(idx.packs[0]!.blobs).toEqual([
      { id: ID, type: 'data', packId: ID2, offset: 0, length: 100, uncompressedLength: 300 },
    ])
    expect(idx.packs[1]!.blobs).toEqual([])
    expect(parseIndexFile(json({ packs: null })).packs).toEqual([])
    const withBlob =
      (b: object): (() => unknown) =>
      () =>
        parseIndexFile(json({ packs: [{ id: ID2, blobs: [{ ...blob, ...b }] }] }))
    expect(withBlob({ offset: -1 })).toThrow(
      'the index: pack 0: blob 0: offset is not a non-negative integer',
    )
    expect(withBlob({ type: 'tre' })).toThrow('type is not "data" or "tree"')
    expect(withBlob({ id: 'AB'.repeat(32) })).toThrow('id is not an ID')
    expect(() => parseIndexFile(json({ packs: [{ id: 'x', blobs: [] }] }))).toThrow(
      'the index: pack 0: id is not an ID',
    )
    expect(() => parseIndexFile(json({ supersedes: ['x'], packs: [] }))).toThrow(
      'supersedes is not a list of IDs',
    )
    expect(() => parseIndexFile(json({}))).toThrow('the index: packs is not an array')
  })

  it('reads the config, a lock and a key file, with the defaults restic leaves out', () => {
    expect(parseConfig(json({ version: 2, id: ID, chunker_polynomial: '3dea92648f6e83' }))).toEqual(
      {
        version: 2,
        id: ID,
        chunkerPolynomial: '3dea92648f6e83',
      },
    )
    expect(() => parseConfig(json({ version: 2, id: ID, chunker_polynomial: 'xyz' }))).toThrow(
      'the config: chunker_polynomial is not a polynomial in hex',
    )
    expect(() => parseConfig(json({ version: 3, id: ID, chunker_polynomial: '1' }))).toThrow(
      /version 3/,
    )
    const lock = parseLock(
      json({ time: '2024-05-01T10:00:00Z', exclusive: false, pid: 12 }),
      ID as LockId,
    )
    expect(lock).toMatchObject({ exclusive: false, hostname: '', username: '', pid: 12 })
    expect(lock.uid).toBeUndefined()
    expect(() =>
      parseLock(json({ time: '2024-05-01T10:00:00Z', exclusive: 'no', pid: 1 }), ID as LockId),
    ).toThrow('the lock: exclusive is not true or false')
    const key = parseKeyFile(
      json({ kdf: 'scrypt', N: 16384, r: 8, p: 1, salt: 'AAEC', data: 'AwQ=' }),
    )
    expect(key).toMatchObject({ created: '', username: '', hostname: '', kdf: 'scrypt', N: 16384 })
    expect([...key.salt]).toEqual([0, 1, 2])
    expect(() =>
      parseKeyFile(json({ kdf: 'scrypt', N: 1.5, r: 8, p: 1, salt: '', data: '' })),
    ).toThrow('the key file: N is not an integer')
  })
})

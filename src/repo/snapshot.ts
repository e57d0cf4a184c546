import { HEX64, JsonFields } from './json-fields.js'
import { formatGoTime, goJsonString, parseGoTime, type GoTime } from './go/index.js'
import type { SnapshotId } from './id.js'
import type { TreeId } from './tree/index.js'

/**
 * A snapshot file (design.rst, "Snapshots"; restic's `data.Snapshot`): when, which tree,
 * which paths, who and where, tags, the parent it was based on, and for restic ≥ 0.17 a
 * summary of the backup. restic ignores fields it does not know, so the summary is safe to
 * write for 0.14 readers.
 */
export interface Snapshot {
  readonly time: GoTime
  readonly parent?: SnapshotId
  readonly tree: TreeId
  readonly paths: readonly string[]
  readonly hostname?: string
  readonly username?: string
  readonly uid?: number
  readonly gid?: number
  readonly excludes?: readonly string[]
  readonly tags?: readonly string[]
  readonly original?: SnapshotId
  readonly programVersion?: string
  readonly summary?: SnapshotSummary
}

export interface SnapshotSummary {
  readonly backupStart: GoTime
  readonly backupEnd: GoTime
  readonly filesNew: number
  readonly filesChanged: number
  readonly filesUnmodified: number
  readonly dirsNew: number
  readonly dirsChanged: number
  readonly dirsUnmodified: number
  readonly dataBlobs: number
  readonly treeBlobs: number
  readonly dataAdded: number
  readonly dataAddedPacked: number
  readonly totalFilesProcessed: number
  readonly totalBytesProcessed: number
}

/** A snapshot with the ID of the file that holds it. */
export interface StoredSnapshot extends Snapshot {
  readonly id: SnapshotId
}

/** Parses a snapshot file's JSON; throws a plain Error when it does not match the format. */
export function parseSnapshot(json: Buffer, id: SnapshotId): StoredSnapshot {
  const j = new JsonFields(JSON.parse(json.toString('utf8')), 'the snapshot')
  const optId = (k: string): string | undefined =>
    j.raw(k) === undefined || j.raw(k) === null ? undefined : j.matching(k, HEX64, 'an ID')
  const parent = optId('parent')
  const original = optId('original')
  const hostname = j.optString('hostname')
  const username = j.optString('username')
  const uid = j.optUint('uid')
  const gid = j.optUint('gid')
  const excludes = j.optStrings('excludes', true)
  const tags = j.optStrings('tags', true)
  const programVersion = j.optString('program_version')
  const s = j.optObject('summary', true)
  const count = (k: string): number => s!.optUint(k) ?? 0
  return {
    id,
    time: parseGoTime(j.string('time')),
    ...(parent ? { parent: parent as SnapshotId } : {}),
    tree: j.matching('tree', HEX64, 'an ID') as TreeId,
    paths: j.optStrings('paths', true) ?? [],
    ...(hostname ? { hostname } : {}),
    ...(username ? { username } : {}),
    ...(uid ? { uid } : {}),
    ...(gid ? { gid } : {}),
    ...(excludes?.length ? { excludes } : {}),
    ...(tags?.length ? { tags } : {}),
    ...(original ? { original: original as SnapshotId } : {}),
    ...(programVersion ? { programVersion } : {}),
    ...(s
      ? {
          summary: {
            backupStart: parseGoTime(s.string('backup_start')),
            backupEnd: parseGoTime(s.string('backup_end')),
            filesNew: count('files_new'),
            filesChanged: count('files_changed'),
            filesUnmodified: count('files_unmodified'),
            dirsNew: count('dirs_new'),
            dirsChanged: count('dirs_changed'),
            dirsUnmodified: count('dirs_unmodified'),
            dataBlobs: count('data_blobs'),
            treeBlobs: count('tree_blobs'),
            dataAdded: count('data_added'),
            dataAddedPacked: count('data_added_packed'),
            totalFilesProcessed: count('total_files_processed'),
            totalBytesProcessed: count('total_bytes_processed'),
          },
        }
      : {}),
  }
}

const strings = (xs: readonly string[]): string => `[${xs.map(goJsonString).join(',')}]`

/** The snapshot's JSON in the field order and omitempty rules of restic's Snapshot struct. */
export function encodeSnapshot(s: Snapshot): Buffer {
  const f: string[] = [`{"time":"${formatGoTime(s.time)}"`]
  if (s.parent) f.push(`,"parent":"${s.parent}"`)
  f.push(`,"tree":"${s.tree}","paths":${strings(s.paths)}`)
  if (s.hostname) f.push(`,"hostname":${goJsonString(s.hostname)}`)
  if (s.username) f.push(`,"username":${goJsonString(s.username)}`)
  if (s.uid) f.push(`,"uid":${s.uid}`)
  if (s.gid) f.push(`,"gid":${s.gid}`)
  if (s.excludes?.length) f.push(`,"excludes":${strings(s.excludes)}`)
  if (s.tags?.length) f.push(`,"tags":${strings(s.tags)}`)
  if (s.original) f.push(`,"original":"${s.original}"`)
  if (s.programVersion) f.push(`,"program_version":${goJsonString(s.programVersion)}`)
  const m = s.summary
  if (m) {
    f.push(
      `,"summary":{"backup_start":"${formatGoTime(m.backupStart)}","backup_end":"${formatGoTime(m.backupEnd)}"` +
        `,"files_new":${m.filesNew},"files_changed":${m.filesChanged},"files_unmodified":${m.filesUnmodified}` +
        `,"dirs_new":${m.dirsNew},"dirs_changed":${m.dirsChanged},"dirs_unmodified":${m.dirsUnmodified}` +
        `,"data_blobs":${m.dataBlobs},"tree_blobs":${m.treeBlobs},"data_added":${m.dataAdded}` +
        `,"data_added_packed":${m.dataAddedPacked},"total_files_processed":${m.totalFilesProcessed}` +
        `,"total_bytes_processed":${m.totalBytesProcessed}}`,
    )
  }
  f.push('}')
  return Buffer.from(f.join(''), 'utf8')
}

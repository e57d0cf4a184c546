import { z } from 'zod'
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

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/)
const uint = z.number().int().nonnegative()
const SUMMARY_JSON = z.object({
  backup_start: z.string(),
  backup_end: z.string(),
  files_new: uint.default(0),
  files_changed: uint.default(0),
  files_unmodified: uint.default(0),
  dirs_new: uint.default(0),
  dirs_changed: uint.default(0),
  dirs_unmodified: uint.default(0),
  data_blobs: uint.default(0),
  tree_blobs: uint.default(0),
  data_added: uint.default(0),
  data_added_packed: uint.default(0),
  total_files_processed: uint.default(0),
  total_bytes_processed: uint.default(0),
})
const SNAPSHOT_JSON = z.object({
  time: z.string(),
  parent: HEX64.nullish(),
  tree: HEX64,
  paths: z.array(z.string()).nullish(),
  hostname: z.string().optional(),
  username: z.string().optional(),
  uid: uint.optional(),
  gid: uint.optional(),
  excludes: z.array(z.string()).nullish(),
  tags: z.array(z.string()).nullish(),
  original: HEX64.nullish(),
  program_version: z.string().optional(),
  summary: SUMMARY_JSON.nullish(),
})

/** Parses a snapshot file's JSON; throws a plain Error when it does not match the format. */
export function parseSnapshot(json: Buffer, id: SnapshotId): StoredSnapshot {
  const j = SNAPSHOT_JSON.parse(JSON.parse(json.toString('utf8')))
  const s = j.summary
  return {
    id,
    time: parseGoTime(j.time),
    ...(j.parent ? { parent: j.parent as SnapshotId } : {}),
    tree: j.tree as TreeId,
    paths: j.paths ?? [],
    ...(j.hostname ? { hostname: j.hostname } : {}),
    ...(j.username ? { username: j.username } : {}),
    ...(j.uid ? { uid: j.uid } : {}),
    ...(j.gid ? { gid: j.gid } : {}),
    ...(j.excludes?.length ? { excludes: j.excludes } : {}),
    ...(j.tags?.length ? { tags: j.tags } : {}),
    ...(j.original ? { original: j.original as SnapshotId } : {}),
    ...(j.program_version ? { programVersion: j.program_version } : {}),
    ...(s
      ? {
          summary: {
            backupStart: parseGoTime(s.backup_start),
            backupEnd: parseGoTime(s.backup_end),
            filesNew: s.files_new,
            filesChanged: s.files_changed,
            filesUnmodified: s.files_unmodified,
            dirsNew: s.dirs_new,
            dirsChanged: s.dirs_changed,
            dirsUnmodified: s.dirs_unmodified,
            dataBlobs: s.data_blobs,
            treeBlobs: s.tree_blobs,
            dataAdded: s.data_added,
            dataAddedPacked: s.data_added_packed,
            totalFilesProcessed: s.total_files_processed,
            totalBytesProcessed: s.total_bytes_processed,
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

import { formatGoTime, shortId, type GoTime, type StoredSnapshot } from '../../repo/index.js'

/** `2026-11-25 10:00:00` in the snapshot's own time zone, as restic's table shows it. */
export function tableTime(t: GoTime): string {
  return formatGoTime({
    unixNs: (t.unixNs / 1_000_000_000n) * 1_000_000_000n,
    offsetSeconds: t.offsetSeconds,
  })
    .replace('T', ' ')
    .replace(/(Z|[+-]\d\d:\d\d)$/, '')
}

/** restic's `snapshots` table. */
export function snapshotTable(snaps: readonly StoredSnapshot[]): string {
  const rows = snaps.map((s) => [
    shortId(s.id),
    tableTime(s.time),
    s.hostname ?? '',
    (s.tags ?? []).join(','),
    s.paths.join(', '),
  ])
  const head = ['ID', 'Time', 'Host', 'Tags', 'Paths']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  const rule = '-'.repeat(Math.max(...[line(head), ...rows.map(line)].map((l) => l.length)))
  return [line(head), rule, ...rows.map(line), rule, `${snaps.length} snapshots`].join('\n')
}

/** One snapshot as restic's `snapshots --json` prints it. */
export function snapshotJson(s: StoredSnapshot): Record<string, unknown> {
  const m = s.summary
  return {
    time: formatGoTime(s.time),
    ...(s.parent ? { parent: s.parent } : {}),
    tree: s.tree,
    paths: s.paths,
    hostname: s.hostname ?? '',
    username: s.username ?? '',
    ...(s.uid ? { uid: s.uid } : {}),
    ...(s.gid ? { gid: s.gid } : {}),
    ...(s.tags?.length ? { tags: s.tags } : {}),
    ...(s.original ? { original: s.original } : {}),
    ...(s.programVersion ? { program_version: s.programVersion } : {}),
    ...(m
      ? {
          summary: {
            backup_start: formatGoTime(m.backupStart),
            backup_end: formatGoTime(m.backupEnd),
            files_new: m.filesNew,
            files_changed: m.filesChanged,
            files_unmodified: m.filesUnmodified,
            dirs_new: m.dirsNew,
            dirs_changed: m.dirsChanged,
            dirs_unmodified: m.dirsUnmodified,
            data_blobs: m.dataBlobs,
            tree_blobs: m.treeBlobs,
            data_added: m.dataAdded,
            data_added_packed: m.dataAddedPacked,
            total_files_processed: m.totalFilesProcessed,
            total_bytes_processed: m.totalBytesProcessed,
          },
        }
      : {}),
    id: s.id,
    short_id: shortId(s.id),
  }
}

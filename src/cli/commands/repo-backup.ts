import { lstat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { err, formatBytes, formatDuration, out, progressLine } from '../output.js'
import { interruptSignal } from '../signal.js'
import { captureFiles, nodeFromStat, type FileSource } from '../../capture/index.js'
import { InvalidInputError } from '../../errors.js'
import { COFFER_VERSION } from '../../lib/index.js'
import {
  RepoReader,
  shortId,
  SnapshotWriter,
  treePath,
  type SnapshotId,
  type TreePath,
} from '../../repo/index.js'
import { hostname } from 'node:os'
import {
  captureMysqlServices,
  captureSummaryJson,
  cliDriverContext,
  parseMysqlServices,
  printCaptureSummary,
} from './mysql-options.js'
import { snapshotTreeReader, type MysqlCaptureResult } from '../../capture/index.js'

interface BackupFlags {
  readonly tag?: string[]
  readonly host?: string
  readonly json?: boolean
  readonly parent?: string
  readonly force?: boolean
  readonly mysql?: string[]
  readonly live?: boolean
}

export const run: CommandRunner = async (cmd, args) => {
  const paths = ((args[0] as string[] | undefined) ?? []).map((p) => resolve(p))
  const o = cmd.opts<BackupFlags>()
  const mysql = parseMysqlServices(o.mysql ?? [])
  if (paths.length === 0 && mysql.length === 0)
    throw new InvalidInputError(
      'path',
      'Nothing to back up: name at least one path or give --mysql URL.',
    )
  // A database service is stored under /services/<service>, which the snapshot lists as a path.
  const snapshotPaths = [...paths, ...mysql.map((m) => `/services/${m.service}`)].sort()
  const signal = interruptSignal()
  const started = Date.now()
  const repo = await openRepo(cmd, signal)
  const host = o.host ?? hostname()
  const reader = await RepoReader.open(repo, signal, { treeReadAhead: true, startWorkers: true })

  // restic's default parent: the newest snapshot of the same host and paths.
  let parentId: SnapshotId | undefined
  let parentTree
  if (!o.force) {
    const parent = o.parent
      ? await reader.findSnapshot(o.parent, {}, signal)
      : (await repo.listSnapshots(signal))
          .filter(
            (s) =>
              s.hostname === host &&
              s.paths.length === snapshotPaths.length &&
              s.paths.every((p, i) => p === snapshotPaths[i]),
          )
          .at(-1)
    parentId = parent?.id
    parentTree = parent?.tree
  }

  const writer = await SnapshotWriter.start(repo, { signal })
  const progress = progressLine()
  try {
    const sources: FileSource[] = []
    for (const p of outermost(paths)) {
      const target = treePath(p)
      // Directories above the backed-up path carry their real metadata, as in restic.
      for (let i = 1; i < target.length; i++) {
        const ancestor: TreePath = target.slice(0, i)
        const st = await lstat('/' + ancestor.map((c) => Buffer.from(c).toString()).join('/'), {
          bigint: true,
        })
        writer.addDir(ancestor, nodeFromStat(ancestor.at(-1)!, st))
      }
      const parentNode = parentTree ? await reader.lookup(parentTree, target, signal) : undefined
      sources.push({
        path: p,
        target,
        ...(parentNode?.type === 'dir' && parentNode.subtree
          ? { parentTree: parentNode.subtree }
          : {}),
        ...(parentNode && parentNode.type !== 'dir' ? { parentNode } : {}),
      })
    }
    const filesStep = () =>
      captureFiles(writer, sources, {
        parent: reader,
        signal: writer.signal,
        onProgress: (s) =>
          progress.update(
            `[${formatDuration(Date.now() - started)}] ${s.totalFilesProcessed} files ${formatBytes(s.totalBytesProcessed)}`,
          ),
      })
    let stats!: Awaited<ReturnType<typeof filesStep>>
    let services: MysqlCaptureResult[] = []
    if (mysql.length === 0) stats = await filesStep()
    else
      services = await captureMysqlServices(
        mysql,
        writer,
        cliDriverContext(writer.signal, (t) =>
          progress.update(`[${formatDuration(Date.now() - started)}] MySQL ${t}`),
        ),
        Boolean(o.live),
        async () => {
          stats = await filesStep()
        },
        parentTree ? snapshotTreeReader(reader, parentTree) : undefined,
      )
    progress.done()
    for (const p of stats.vanished) err(`warning: ${p} vanished during the backup`)
    for (const p of stats.changedDuringRead) err(`warning: ${p} changed while it was read`)
    for (const p of stats.skipped) err(`warning: skipped ${p}`)
    const snap = await writer.commit({
      paths: snapshotPaths,
      hostname: host,
      tags: o.tag ?? [],
      ...(parentId ? { parent: parentId } : {}),
      programVersion: `coffer ${COFFER_VERSION}`,
      counts: stats,
    })
    const s = snap.summary!
    const elapsed = Date.now() - started
    if (o.json) {
      out(
        JSON.stringify({
          message_type: 'summary',
          files_new: s.filesNew,
          files_changed: s.filesChanged,
          files_unmodified: s.filesUnmodified,
          dirs_new: s.dirsNew,
          dirs_changed: s.dirsChanged,
          dirs_unmodified: s.dirsUnmodified,
          data_blobs: s.dataBlobs,
          tree_blobs: s.treeBlobs,
          data_added: s.dataAdded,
          data_added_packed: s.dataAddedPacked,
          total_files_processed: s.totalFilesProcessed,
          total_bytes_processed: s.totalBytesProcessed,
          bytes_read: stats.bytesRead,
          ...(services.length > 0 ? { services: captureSummaryJson(services) } : {}),
          total_duration: elapsed / 1000,
          snapshot_id: snap.id,
        }),
      )
      return
    }
    if (parentId) out(`using parent snapshot ${shortId(parentId)}`)
    printCaptureSummary(services)
    out(
      `Files:       ${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnmodified} unmodified`,
    )
    out(`Dirs:        ${s.dirsNew} new, ${s.dirsChanged} changed, ${s.dirsUnmodified} unmodified`)
    out(
      `Added to the repository: ${formatBytes(s.dataAdded)} (${formatBytes(s.dataAddedPacked)} stored)`,
    )
    out(
      `processed ${s.totalFilesProcessed} files, ${formatBytes(s.totalBytesProcessed)} in ${formatDuration(elapsed)}`,
    )
    out(`snapshot ${shortId(snap.id)} saved`)
  } catch (e) {
    progress.done()
    await writer.abort()
    throw e
  }
}

/**
 * The paths to walk: each once, and none inside another given path, which holds it already
 * (as restic does; the snapshot still lists every path given).
 */
function outermost(paths: readonly string[]): string[] {
  const inside = (p: string, q: string): boolean => q === '/' || p.startsWith(`${q}/`)
  return [...new Set(paths)].filter((p) => !paths.some((q) => q !== p && inside(p, q)))
}

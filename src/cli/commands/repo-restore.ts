import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { err, formatBytes, formatDuration, out, progressLine } from '../output.js'
import { interruptSignal } from '../signal.js'
import { restoreFiles } from '../../capture/index.js'
import { CofferError, InvalidInputError, NotFoundError } from '../../errors.js'
import { RepoReader, shortId, treePath } from '../../repo/index.js'

export const run: CommandRunner = async (cmd, args) => {
  const [refArg] = args as [string]
  const o = cmd.opts<{
    target?: string
    include?: string[]
    host?: string[]
    tag?: string[]
    path?: string[]
    json?: boolean
  }>()
  if (!o.target)
    throw new InvalidInputError(
      'target',
      'Please give a directory to restore to with --target DIR.',
    )
  // restic's "snapshot:subfolder" restores only that folder's contents.
  const [ref, sub] = refArg.includes(':')
    ? [refArg.slice(0, refArg.indexOf(':')), refArg.slice(refArg.indexOf(':') + 1)]
    : [refArg, '']
  const signal = interruptSignal()
  const started = Date.now()
  const repo = await openRepo(cmd, signal)
  const lock = await repo.lock(false, { signal })
  try {
    const reader = await RepoReader.open(repo, signal)
    const snap = await reader.findSnapshot(
      ref,
      { hosts: o.host ?? [], tags: o.tag ?? [], paths: o.path ?? [] },
      signal,
    )
    const tree = sub ? await reader.subtreeAt(snap.tree, treePath(sub), signal) : snap.tree
    if (!tree) throw new NotFoundError(`No folder ${sub} in snapshot ${shortId(snap.id)}.`)
    if (!o.json)
      out(`restoring snapshot ${shortId(snap.id)} of [${snap.paths.join(' ')}] to ${o.target}`)
    const progress = progressLine()
    const stats = await restoreFiles(reader, tree, o.target, {
      include: (o.include ?? []).map(treePath),
      signal,
      onProgress: (s) =>
        progress.update(
          `[${formatDuration(Date.now() - started)}] ${s.files} files ${formatBytes(s.bytes)}`,
        ),
    })
    progress.done()
    for (const r of stats.refused)
      err(`error: refused to restore ${r}: the name would leave the target directory`)
    if (o.json) {
      out(
        JSON.stringify({
          message_type: 'summary',
          files_restored: stats.files,
          dirs_restored: stats.dirs,
          hard_links: stats.links,
          bytes_restored: stats.bytes,
          refused: stats.refused.length,
          total_duration: (Date.now() - started) / 1000,
          snapshot_id: snap.id,
        }),
      )
    } else {
      out(
        `restored ${stats.files} files, ${stats.dirs} directories, ${formatBytes(stats.bytes)} in ${formatDuration(Date.now() - started)}`,
      )
    }
    if (stats.refused.length > 0) {
      throw new CofferError(
        'restore_failed',
        `The snapshot holds ${stats.refused.length} unsafe name(s); they were not restored.`,
      )
    }
  } finally {
    await lock.release()
  }
}

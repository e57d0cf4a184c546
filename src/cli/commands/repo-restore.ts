import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { err, formatBytes, formatDuration, out, progressLine } from '../output.js'
import { interruptSignal } from '../signal.js'
import { resolve } from 'node:path'
import { restoreFiles, restoreMount, SWITCH_MODES, type SwitchMode } from '../../capture/index.js'
import { CofferError, InvalidInputError, NotFoundError } from '../../errors.js'
import { RepoReader, shortId, treePath } from '../../repo/index.js'
import {
  cliDriverContext,
  parseMysqlServices,
  printRestoreSummary,
  restoreMysqlServices,
  restoreSummaryJson,
} from './mysql-options.js'

export const run: CommandRunner = async (cmd, args) => {
  const [refArg] = args as [string]
  const o = cmd.opts<{
    target?: string
    include?: string[]
    host?: string[]
    tag?: string[]
    path?: string[]
    json?: boolean
    delta?: boolean
    verifyContent?: boolean
    switch?: string
    minFree?: string
    mysql?: string[]
    databaseMap?: string[]
  }>()
  const mysql = parseMysqlServices(o.mysql ?? [])
  if (!o.target && mysql.length === 0)
    throw new InvalidInputError(
      'target',
      'Please give a directory to restore to with --target DIR, or a server with --mysql URL.',
    )
  // restic's "snapshot:subfolder" restores only that folder's contents.
  const [ref, sub] = refArg.includes(':')
    ? [refArg.slice(0, refArg.indexOf(':')), refArg.slice(refArg.indexOf(':') + 1)]
    : [refArg, '']
  const delta = Boolean(o.delta || o.verifyContent)
  const switchMode = o.switch ?? 'auto'
  if (!(SWITCH_MODES as readonly string[]).includes(switchMode))
    throw new InvalidInputError(
      'switch',
      `Unknown switch mode "${switchMode}": use ${SWITCH_MODES.join(', ')}.`,
    )
  const minFree = o.minFree === undefined ? 0 : Number(o.minFree)
  if (!Number.isSafeInteger(minFree) || minFree < 0)
    throw new InvalidInputError(
      'min-free',
      `--min-free takes a number of bytes, not "${o.minFree}".`,
    )
  const signal = interruptSignal()
  const started = Date.now()
  const repo = await openRepo(cmd, signal)
  // The lock is confirmed by a second look 200 ms after it is written (as restic's). A
  // restore reads meanwhile (index, snapshot, trees, the target) and stages a delta, and
  // waits for the confirmation only before it changes anything; a refused lock is the error.
  const locking = repo.lock(false, { signal })
  locking.catch(() => undefined)
  const locked = async (): Promise<void> => {
    await locking
  }
  try {
    const reader = await RepoReader.open(repo, signal, { treeReadAhead: true, startWorkers: true })
    const snap = await reader.findSnapshot(
      ref,
      { hosts: o.host ?? [], tags: o.tag ?? [], paths: o.path ?? [] },
      signal,
    )
    const tree = sub ? await reader.subtreeAt(snap.tree, treePath(sub), signal) : snap.tree
    if (!tree) throw new NotFoundError(`No folder ${sub} in snapshot ${shortId(snap.id)}.`)
    if (mysql.length > 0) {
      // The plan reads only: the lock's confirmation is awaited before the staging.
      const services = await restoreMysqlServices(
        mysql,
        reader,
        tree,
        { include: o.include ?? [], databaseMap: o.databaseMap ?? [], beforeChange: locked },
        cliDriverContext(signal),
        (service, phase, db) => {
          if (!o.json) err(`MySQL ${service}: ${db}: ${phase}`)
        },
      )
      if (o.json)
        out(
          JSON.stringify({
            message_type: 'summary',
            services: restoreSummaryJson(services),
            total_duration: (Date.now() - started) / 1000,
            snapshot_id: snap.id,
          }),
        )
      else printRestoreSummary(services)
      // The files part (with --target) restores what is not a service.
      o.include = (o.include ?? []).filter((i) => !i.replace(/^\/+/, '').startsWith('services/'))
    }
    if (!o.target) return
    if (!o.json)
      out(`restoring snapshot ${shortId(snap.id)} of [${snap.paths.join(' ')}] to ${o.target}`)
    // A path the snapshot lacks restores nothing (restic says nothing either), and a delta
    // restore makes the target lack it too: a mistyped --include is worth a word.
    for (const inc of o.include ?? [])
      if (!(await reader.lookup(tree, treePath(inc), signal)))
        err(
          `warning: ${inc} is not in snapshot ${shortId(snap.id)}${delta ? ': the target will not have it either' : ': nothing is restored there'}`,
        )
    const progress = progressLine()
    if (delta) {
      const r = await restoreMount(reader, tree, resolve(o.target), {
        include: (o.include ?? []).map(treePath),
        verifyContent: Boolean(o.verifyContent),
        switchMode: switchMode as SwitchMode,
        minFreeBytes: minFree,
        ...(sub ? { rootNode: await reader.lookup(snap.tree, treePath(sub), signal) } : {}),
        signal,
        onProgress: (p) =>
          progress.update(
            `[${formatDuration(Date.now() - started)}] ${p.phase} ${p.done}/${p.total} ${formatBytes(p.bytes)}`,
          ),
        beforeSwitch: locked,
      })
      progress.done()
      const t = r.totals
      if (!r.ownersRestored && !o.json)
        err('warning: owners were not restored: not running as root')
      for (const x of r.recovered)
        err(
          x.warning
            ? `warning: ${x.warning}`
            : `note: an interrupted restore (${x.id}) was ${x.outcome === 'completed' ? 'completed' : 'rolled back'} first`,
        )
      // Printed with --json too: the summary below does not carry them.
      for (const w of r.warnings) err(`warning: ${w}`)
      if (o.json) {
        out(
          JSON.stringify({
            message_type: 'summary',
            mode: r.mode,
            files_kept: t.keep,
            files_written: t.write,
            files_copied: t.copy,
            hard_links: t.link,
            special_made: t.make,
            removed: t.remove,
            bytes_written: r.bytesWritten,
            bytes_kept: t.bytesKeep,
            bytes_verified: t.bytesVerified,
            switch_ms: r.switchMs,
            owners_restored: r.ownersRestored,
            total_duration: (Date.now() - started) / 1000,
            snapshot_id: snap.id,
          }),
        )
      } else {
        out(
          `kept ${t.keep} files, wrote ${t.write} (${formatBytes(r.bytesWritten)} from the repository), copied ${t.copy}, linked ${t.link}, removed ${t.remove}; ${r.mode} switch in ${r.switchMs} ms, ${formatDuration(Date.now() - started)} in all`,
        )
      }
      return
    }
    await locked()
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
  } catch (e) {
    // Whatever failed while the lock was still being confirmed, a refused lock explains it.
    throw (
      (await locking.then(
        () => undefined,
        (refused: unknown) => refused,
      )) ?? e
    )
  } finally {
    await (await locking.catch(() => undefined))?.release()
  }
}

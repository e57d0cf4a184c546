import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { formatBytes, out, progressLine } from '../output.js'
import { interruptSignal } from '../signal.js'
import { InvalidInputError } from '../../errors.js'
import { prune } from '../../repo/index.js'

export const run: CommandRunner = async (cmd) => {
  const o = cmd.opts<{ maxUnused: string; dryRun?: boolean; json?: boolean }>()
  const maxUnused = Number(o.maxUnused.replace(/%$/, ''))
  if (!(maxUnused >= 0 && maxUnused < 100))
    throw new InvalidInputError(
      'max-unused',
      '--max-unused must be a percentage between 0 and 100.',
    )
  const signal = interruptSignal()
  const repo = await openRepo(cmd, signal)
  const progress = progressLine()
  const r = await prune(repo, {
    maxUnusedPercent: maxUnused,
    dryRun: Boolean(o.dryRun),
    signal,
    progress: (p) => progress.update(`${p.phase}: ${p.done}/${p.total}`),
  })
  progress.done()
  const s = r.plan.stats
  if (o.json) {
    out(
      JSON.stringify({
        message_type: 'summary',
        dry_run: Boolean(o.dryRun),
        packs_kept: r.plan.keep.length,
        packs_repacked: r.plan.repack.length,
        packs_removed: r.plan.remove.length,
        packs_written: r.packsWritten,
        unfinished_packs_removed: r.spooledFilesRemoved,
        used_bytes: s.usedBytes,
        unused_bytes: s.unusedBytes,
        unused_bytes_after: s.unusedBytesAfter,
        removed_bytes: s.removeBytes + s.repackBytes,
      }),
    )
    return
  }
  out(`used:      ${s.usedBlobs} blobs, ${formatBytes(s.usedBytes)}`)
  out(`unused:    ${formatBytes(s.unusedBytes)}`)
  out(
    `${o.dryRun ? 'would keep' : 'kept'} ${r.plan.keep.length} packs, ${o.dryRun ? 'would repack' : 'repacked'} ${r.plan.repack.length}, ${o.dryRun ? 'would remove' : 'removed'} ${r.plan.remove.length} (${formatBytes(s.removeBytes + s.repackBytes)})`,
  )
  out(`unused after prune: ${formatBytes(s.unusedBytesAfter)}`)
  if (r.spooledFilesRemoved > 0)
    out(`removed ${r.spooledFilesRemoved} unfinished pack files of interrupted backups`)
  if (!o.dryRun) out('done')
}

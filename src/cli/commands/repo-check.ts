import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { err, out, progressLine } from '../output.js'
import { interruptSignal } from '../signal.js'
import { CofferError } from '../../errors.js'
import { checkRepository } from '../../repo/index.js'

export const run: CommandRunner = async (cmd) => {
  const o = cmd.opts<{ readData?: boolean; json?: boolean }>()
  const signal = interruptSignal()
  const repo = await openRepo(cmd, signal)
  const lock = await repo.lock(false, { signal })
  const progress = progressLine()
  try {
    if (!o.json)
      out('load indexes, check packs, snapshots and trees' + (o.readData ? ', read all data' : ''))
    const result = await checkRepository(repo, {
      readData: Boolean(o.readData),
      signal,
      progress: (p) => progress.update(`${p.phase}: ${p.done}/${p.total}`),
    })
    progress.done()
    if (o.json) {
      out(
        JSON.stringify({
          message_type: 'summary',
          num_errors: result.errors,
          snapshots: result.snapshots,
          packs: result.packs,
          packs_read: result.packsRead,
          blobs: result.blobs,
          findings: result.findings,
        }),
      )
    } else {
      for (const f of result.findings) {
        const line = `${f.severity === 'error' ? 'error' : 'info'}: ${f.file ? `${f.file}: ` : ''}${f.message}`
        if (f.severity === 'error') err(line)
        else out(line)
      }
      if (result.errors === 0) out('no errors were found')
    }
    if (result.errors > 0) {
      throw new CofferError(
        'repo_integrity',
        `The repository has ${result.errors} error(s); see above.`,
      )
    }
  } finally {
    progress.done()
    await lock.release()
  }
}

import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { out } from '../output.js'
import { removeLocks } from '../../repo/index.js'

export const run: CommandRunner = async (cmd) => {
  const o = cmd.opts<{ removeAll?: boolean }>()
  const repo = await openRepo(cmd)
  const n = await removeLocks(repo.store, { all: Boolean(o.removeAll) })
  out(`removed ${n} ${o.removeAll ? '' : 'stale '}lock(s)`)
}

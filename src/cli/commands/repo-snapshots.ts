import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { out } from '../output.js'
import { snapshotJson, snapshotTable } from '../repo-tools/snapshot-format.js'
import { matches } from '../../repo/index.js'

export const run: CommandRunner = async (cmd) => {
  const o = cmd.opts<{ json?: boolean; host?: string[]; tag?: string[]; path?: string[] }>()
  const repo = await openRepo(cmd)
  const snaps = (await repo.listSnapshots()).filter((s) =>
    matches(s, { hosts: o.host ?? [], tags: o.tag ?? [], paths: o.path ?? [] }),
  )
  if (o.json) out(JSON.stringify(snaps.map(snapshotJson)))
  else out(snapshotTable(snaps))
}

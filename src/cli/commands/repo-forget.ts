import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { formatBytes, out } from '../output.js'
import { snapshotTable } from '../repo-tools/snapshot-format.js'
import { interruptSignal } from '../signal.js'
import { InvalidInputError } from '../../errors.js'
import {
  forget,
  parsePolicyDuration,
  prune,
  RepoReader,
  type ForgetPolicy,
  type SnapshotId,
} from '../../repo/index.js'

interface ForgetFlags {
  keepLast?: string
  keepHourly?: string
  keepDaily?: string
  keepWeekly?: string
  keepMonthly?: string
  keepYearly?: string
  keepWithin?: string
  keepWithinHourly?: string
  keepWithinDaily?: string
  keepWithinWeekly?: string
  keepWithinMonthly?: string
  keepWithinYearly?: string
  keepTag?: string[]
  host?: string[]
  tag?: string[]
  path?: string[]
  groupBy: string
  dryRun?: boolean
  prune?: boolean
  json?: boolean
  maxUnused?: string
}

function count(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  if (v === 'unlimited') return -1
  const n = Number(v)
  if (!Number.isInteger(n) || n < -1)
    throw new InvalidInputError(flag, `--${flag} takes a number or "unlimited".`)
  return n
}

export const run: CommandRunner = async (cmd, args) => {
  const ids = args[0] as string[]
  const o = cmd.opts<ForgetFlags>()
  const signal = interruptSignal()
  const d = (v: string | undefined) => (v === undefined ? undefined : parsePolicyDuration(v))
  const policy: ForgetPolicy = {
    last: count(o.keepLast, 'keep-last'),
    hourly: count(o.keepHourly, 'keep-hourly'),
    daily: count(o.keepDaily, 'keep-daily'),
    weekly: count(o.keepWeekly, 'keep-weekly'),
    monthly: count(o.keepMonthly, 'keep-monthly'),
    yearly: count(o.keepYearly, 'keep-yearly'),
    within: d(o.keepWithin),
    withinHourly: d(o.keepWithinHourly),
    withinDaily: d(o.keepWithinDaily),
    withinWeekly: d(o.keepWithinWeekly),
    withinMonthly: d(o.keepWithinMonthly),
    withinYearly: d(o.keepWithinYearly),
    tags: (o.keepTag ?? []).map((t) => t.split(',')),
  }
  const groupBy = new Set(o.groupBy.split(',').filter(Boolean))
  for (const g of groupBy)
    if (!['host', 'paths', 'tags'].includes(g))
      throw new InvalidInputError('group-by', `Unknown --group-by field "${g}".`)
  const repo = await openRepo(cmd, signal)
  const reader = await RepoReader.open(repo, signal)
  const resolved: SnapshotId[] = []
  for (const id of ids) resolved.push((await reader.findSnapshot(id, {}, signal)).id)
  const result = await forget(repo, {
    policy,
    ids: resolved,
    filter: { hosts: o.host ?? [], tags: o.tag ?? [], paths: o.path ?? [] },
    groupBy: { host: groupBy.has('host'), paths: groupBy.has('paths'), tags: groupBy.has('tags') },
    dryRun: Boolean(o.dryRun),
    signal,
  })
  if (o.json) {
    out(
      JSON.stringify(
        result.groups.map((g) => ({
          host: g.key.hostname ?? '',
          paths: g.key.paths ?? null,
          tags: g.key.tags ?? null,
          keep: g.decisions.filter((x) => x.keep).map((x) => x.snapshot.id),
          remove: g.decisions.filter((x) => !x.keep).map((x) => x.snapshot.id),
          reasons: g.decisions
            .filter((x) => x.keep)
            .map((x) => ({ id: x.snapshot.id, matches: x.reasons })),
        })),
      ),
    )
  } else {
    for (const g of result.groups) {
      out(
        `snapshots for (host [${g.key.hostname ?? ''}], paths [${(g.key.paths ?? []).join(', ')}]):`,
      )
      const keep = g.decisions.filter((x) => x.keep).map((x) => x.snapshot)
      const remove = g.decisions.filter((x) => !x.keep).map((x) => x.snapshot)
      out(`keep ${keep.length} snapshots:\n${snapshotTable(keep)}\n`)
      if (remove.length > 0) out(`remove ${remove.length} snapshots:\n${snapshotTable(remove)}\n`)
    }
    out(`${o.dryRun ? 'would remove' : 'removed'} ${result.removed.length} snapshots`)
  }
  if (o.prune && !o.dryRun) {
    const r = await prune(repo, { maxUnusedPercent: Number(o.maxUnused ?? 5), signal })
    if (!o.json)
      out(
        `prune: removed ${r.plan.remove.length + r.plan.repack.length} packs (${formatBytes(r.plan.stats.removeBytes + r.plan.stats.repackBytes)}), repacked ${r.plan.repack.length}`,
      )
  }
}

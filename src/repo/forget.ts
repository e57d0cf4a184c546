import { InvalidInputError } from '../errors.js'
import {
  applyPolicy,
  groupSnapshots,
  isEmptyPolicy,
  type ForgetPolicy,
  type GroupBy,
  type KeepDecision,
} from './forget-policy.js'
import type { SnapshotId } from './id.js'
import { matches, type SnapshotFilter } from './repo-reader.js'
import type { Repository } from './repository.js'

export interface ForgetOptions {
  readonly policy: ForgetPolicy
  /** Snapshots given by ID are removed regardless of the policy. */
  readonly ids?: readonly SnapshotId[]
  readonly filter?: SnapshotFilter
  readonly groupBy?: GroupBy
  readonly dryRun?: boolean
  readonly now?: () => Date
  readonly signal?: AbortSignal
}

export interface ForgetGroup {
  readonly key: {
    readonly hostname?: string
    readonly paths?: readonly string[]
    readonly tags?: readonly string[]
  }
  readonly decisions: readonly KeepDecision[]
}

/**
 * Removes snapshot files (restic's `forget`): those named, or those the policy does not keep,
 * group by group. Data is not touched; `prune` removes what no snapshot uses any more. Holds
 * an exclusive lock while deleting. A policy with no rule and no IDs is refused, as restic
 * refuses to forget everything by accident.
 */
export async function forget(
  repo: Repository,
  opts: ForgetOptions,
): Promise<{ groups: ForgetGroup[]; removed: SnapshotId[] }> {
  if (isEmptyPolicy(opts.policy) && !opts.ids?.length) {
    throw new InvalidInputError(
      'policy',
      'No policy given: name snapshots or pass at least one --keep-* option.',
    )
  }
  const now = opts.now ?? (() => new Date())
  const lock = opts.dryRun
    ? undefined
    : await repo.lock(true, { now, ...(opts.signal ? { signal: opts.signal } : {}) })
  try {
    const all = await repo.listSnapshots(opts.signal)
    const doomed = new Set<SnapshotId>(opts.ids ?? [])
    const groups: ForgetGroup[] = []
    if (!isEmptyPolicy(opts.policy)) {
      const candidates = all.filter((s) => matches(s, opts.filter ?? {}))
      const by = opts.groupBy ?? { host: true, paths: true, tags: false }
      for (const [key, list] of groupSnapshots(candidates, by)) {
        const decisions = applyPolicy(list, opts.policy, now())
        for (const d of decisions) if (!d.keep) doomed.add(d.snapshot.id)
        groups.push({ key: JSON.parse(key) as ForgetGroup['key'], decisions })
      }
    }
    const removed = [...doomed]
    if (!opts.dryRun) {
      for (const id of removed)
        await repo.backend.remove({ type: 'snapshots', name: id }, { signal: opts.signal })
    }
    return { groups, removed }
  } finally {
    await lock?.release()
  }
}

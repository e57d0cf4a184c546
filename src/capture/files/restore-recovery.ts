import { lstat, readdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { mountDirectory } from './mount-directory.js'
import { besideIds, besideNames, insideIds, insideStage } from './stage-names.js'
import {
  applySwitch,
  discardStage,
  finishSwitch,
  isCommitted,
  markCommitted,
  readSwitch,
} from './switch-journal.js'
import { markWholeCommitted, recoverWhole } from './whole-switch.js'

/** What an interrupted restore had left, and what was done about it. */
export interface Recovery {
  readonly id: string
  readonly mode: 'whole' | 'per-file'
  /**
   * `completed`: it was killed during its switch, which is now finished; `rolled-back`:
   * before; `left`: it had finished, but its old version beside the mount still cannot be
   * removed (`warning` says why and what to do).
   */
  readonly outcome: 'completed' | 'rolled-back' | 'left'
  readonly warning?: string
}

/**
 * Finishes or discards what interrupted staged restores of `mountPath` left (docs/FILES.md):
 * a switch that had begun is completed, an unfinished stage removed. Afterwards the mount is
 * exactly its old or its new version and no work area remains. Safe to run at any time when
 * no restore of this mount is running (the environment layer runs one activity at a time).
 */
export async function recoverStagedRestore(path: string): Promise<Recovery[]> {
  const mountPath = await mountDirectory(path, 'restore_failed')
  const done: Recovery[] = []
  const parent = dirname(mountPath)
  const siblings = parent === mountPath ? [] : await readdir(parent).catch(() => [])
  const mine = siblings.filter((s) => s.startsWith('.coffer-'))
  for (const id of besideIds(mountPath, mine)) {
    const outcome = await recoverWhole(mountPath, besideNames(mountPath, id))
    done.push(
      typeof outcome === 'string'
        ? { id, mode: 'whole', outcome }
        : { id, mode: 'whole', outcome: 'left', warning: outcome.left },
    )
  }
  const st = await lstat(mountPath).catch(() => undefined)
  if (st?.isDirectory()) {
    for (const id of insideIds(await readdir(mountPath))) {
      const stage = insideStage(mountPath, id)
      if (await isCommitted(stage)) {
        const ops = await readSwitch(stage)
        await applySwitch(mountPath, stage, ops)
        await finishSwitch(mountPath, stage, ops)
        done.push({ id, mode: 'per-file', outcome: 'completed' })
      } else {
        await discardStage(mountPath, stage)
        done.push({ id, mode: 'per-file', outcome: 'rolled-back' })
      }
    }
  }
  return done
}

/**
 * Decides the switch of the staged restore `id` of `mountPath`, as its `commit` does, for a
 * caller that recorded the decision elsewhere first (an environment restore's commit record)
 * and finds the restore interrupted: `recoverStagedRestore` then finishes it. False when no
 * staged restore `id` is there (never staged, or finished and cleaned).
 */
export async function commitStagedRestore(path: string, id: string): Promise<boolean> {
  if (!/^[0-9a-f]+$/.test(id)) return false
  const mountPath = await mountDirectory(path, 'restore_failed')
  if (await markWholeCommitted(besideNames(mountPath, id))) return true
  return markCommitted(insideStage(mountPath, id))
}

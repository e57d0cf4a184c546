import { constants } from 'node:fs'
import { lstat, open, rename, rm } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import { removeTree } from './remove-tree.js'
import type { BesideNames } from './stage-names.js'

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  )

/**
 * The whole-mount switch: a marker that says the switch has begun (flushed to disk), the old
 * mount moved aside, the new one renamed into its place. Each step is a rename on one
 * filesystem; a kill between the two leaves the mount path missing for an instant, and the
 * marker tells the next run (`recoverStagedRestore`) to finish the switch. `onStep` is
 * progress after each step.
 */
export async function switchWhole(
  mountPath: string,
  names: BesideNames,
  mountExists: boolean,
  onStep?: (done: number, total: number) => void,
): Promise<void> {
  await markWholeCommitted(names)
  onStep?.(1, 3)
  if (mountExists) {
    try {
      await rename(mountPath, names.old)
    } catch (e) {
      // Nothing moved (a mount point answers EBUSY): the switch has not begun after all.
      await rm(names.marker, { force: true })
      await rm(names.stage, { recursive: true, force: true })
      const code = (e as NodeJS.ErrnoException).code
      throw new CofferError(
        'restore_failed',
        `Cannot move ${mountPath} aside (${code ?? 'error'}): it may be a mount point; restore it file by file. Nothing was changed.`,
        { cause: e },
      )
    }
  }
  onStep?.(2, 3)
  await rename(names.stage, mountPath)
  onStep?.(3, 3)
}

/**
 * Writes the marker (flushed to disk) that decides the switch: from here a killed run is
 * finished by the next. False when there is no staged version. Idempotent.
 */
export async function markWholeCommitted(names: BesideNames): Promise<boolean> {
  if (!(await exists(names.stage)) && !(await exists(names.marker))) return false
  const fh = await open(names.marker, constants.O_WRONLY | constants.O_CREAT, 0o600)
  await fh.sync()
  await fh.close()
  return true
}

/** After the switch: removes the old version, then the marker. Idempotent. */
export async function finishWhole(names: BesideNames): Promise<void> {
  await removeTree(names.old)
  await rm(names.marker, { force: true })
}

/**
 * Resolves one whole-mount work area found beside a mount: with the marker, the switch is
 * finished (the staged version becomes the mount); without it, the stage is removed and the
 * mount is untouched.
 */
export async function recoverWhole(
  mountPath: string,
  names: BesideNames,
): Promise<'completed' | 'rolled-back'> {
  if (await exists(names.marker)) {
    if (await exists(names.stage)) {
      if ((await exists(mountPath)) && !(await exists(names.old)))
        await rename(mountPath, names.old)
      await rename(names.stage, mountPath)
    }
    await finishWhole(names)
    return 'completed'
  }
  await removeTree(names.stage)
  // Without a marker the old version was never moved aside: nothing else to undo.
  await removeTree(names.old)
  return 'rolled-back'
}

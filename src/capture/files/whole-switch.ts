import { constants } from 'node:fs'
import { lstat, open, rename, rm } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import { removeTree, removeTreeLeniently } from './remove-tree.js'
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

/**
 * After the switch: removes the old version, then the marker. Idempotent. An old version the
 * file system will not let go (an immutable or append-only file in it) is left, and what to
 * do about it returned: the switch is done, so the marker goes either way.
 */
export async function finishWhole(names: BesideNames): Promise<string | undefined> {
  const left = await removeOld(names.old)
  await rm(names.marker, { force: true })
  return left
}

/** Removes an old version; says what is left when something in it cannot be removed. */
async function removeOld(old: string): Promise<string | undefined> {
  // Removed as far as the file system lets it: a file it keeps (immutable) stays, with the
  // directories that lead to it, and no more.
  const refused = await removeTreeLeniently(Buffer.from(old))
  if (refused.length === 0) return undefined
  return `The old version of the mount could not be removed from ${old}: ${refused[0]!.toString()} refuses it (an immutable or append-only file, chattr +i or +a?). Remove the flag (chattr -i) and the directory by hand.`
}

/**
 * Resolves one whole-mount work area found beside a mount: with the marker, the switch is
 * finished (the staged version becomes the mount); without it, the stage is removed and the
 * mount is untouched.
 */
export async function recoverWhole(
  mountPath: string,
  names: BesideNames,
): Promise<'completed' | 'rolled-back' | { readonly left: string }> {
  if (await exists(names.marker)) {
    if (await exists(names.stage)) {
      if ((await exists(mountPath)) && !(await exists(names.old)))
        await rename(mountPath, names.old)
      await rename(names.stage, mountPath)
    }
    await finishWhole(names)
    return 'completed'
  }
  if (!(await exists(names.stage))) {
    // Only an old version: one a finished switch could not remove (removeOld), tried again;
    // what stays does not stop this restore.
    const left = await removeOld(names.old)
    return left ? { left } : 'completed'
  }
  await removeTree(names.stage)
  // Without a marker the old version was never moved aside: nothing else to undo.
  await removeTree(names.old)
  return 'rolled-back'
}

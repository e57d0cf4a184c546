import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Names beside a mount used by a staged restore: the staging directory (the snapshot's
 * version, built while the site runs), a marker that says staging finished, and where the
 * current version goes during the switch. All in the mount's parent directory, so every
 * rename stays on one filesystem.
 */
export function stagingNames(mountPath: string): { stage: string; ready: string; old: string } {
  const dir = dirname(mountPath)
  const base = basename(mountPath)
  return {
    stage: join(dir, `.${base}.coffer-stage`),
    ready: join(dir, `.${base}.coffer-stage-ready`),
    old: join(dir, `.${base}.coffer-old`),
  }
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  )

/** Makes an empty staging directory, removing what a killed earlier run left. */
export async function prepareStage(mountPath: string): Promise<string> {
  await recoverMount(mountPath)
  const { stage } = stagingNames(mountPath)
  await rm(stage, { recursive: true, force: true })
  await mkdir(stage, { recursive: true, mode: 0o700 })
  return stage
}

/**
 * Switches a fully staged mount into place: mark ready, move the current mount aside, move
 * the stage in, drop the old version. Two renames: a crash between them leaves the mount
 * missing for an instant, and `recoverMount` finishes the switch (the ready marker says the
 * stage is complete).
 */
export async function switchMount(mountPath: string): Promise<void> {
  const { stage, ready, old } = stagingNames(mountPath)
  await writeFile(ready, '')
  await rm(old, { recursive: true, force: true })
  if (await exists(mountPath)) await rename(mountPath, old)
  await rename(stage, mountPath)
  await rm(ready, { force: true })
  await rm(old, { recursive: true, force: true })
}

/**
 * Repairs what a killed restore left beside a mount: a switch in progress is finished
 * (stage marked ready), an unfinished stage is discarded, a leftover old version removed.
 * After it the mount is exactly its old or its new version.
 */
export async function recoverMount(mountPath: string): Promise<'none' | 'finished' | 'discarded'> {
  const { stage, ready, old } = stagingNames(mountPath)
  let outcome: 'none' | 'finished' | 'discarded' = 'none'
  if (await exists(ready)) {
    if (await exists(stage)) {
      if (await exists(mountPath)) await rm(mountPath, { recursive: true, force: true })
      await rename(stage, mountPath)
    }
    await rm(ready, { force: true })
    outcome = 'finished'
  } else if (await exists(stage)) {
    await rm(stage, { recursive: true, force: true })
    outcome = 'discarded'
  }
  if (await exists(old)) {
    // Without a ready marker the old version was never moved aside: it is a finished
    // switch's leftover, unless the mount itself is missing.
    if (!(await exists(mountPath))) await rename(old, mountPath)
    else await rm(old, { recursive: true, force: true })
  }
  return outcome
}

import { createHash, randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'

/**
 * Names of a staged restore's work areas (docs/FILES.md, "Staged restore"). Every name starts
 * with `.coffer-`, is short whatever the mount's name (a hash stands for it), and carries the
 * restore's random ID, so a later run finds and cleans what a killed one left.
 *
 * - whole-mount switch: `<parent>/.coffer-stage-<mount hash>-<id>` (the new mount, built
 *   beside the old one on the same filesystem), `<parent>/.coffer-old-<hash>-<id>` (the old
 *   mount while it is being removed) and `<parent>/.coffer-switch-<hash>-<id>` (the marker
 *   that says the switch has begun: a later run finishes it);
 * - file-by-file switch: `<mount>/.coffer-stage-<id>` inside the mount (the mount root is a
 *   mount point, so only inside it is the same filesystem), with the plan of renames and a
 *   `committed` marker.
 */
export const STAGE_PREFIX = Buffer.from('.coffer-stage-')

export const newRestoreId = (): string => randomBytes(6).toString('hex')

/** A short, stable stand-in for a mount's name among its siblings. */
export function mountHash(mountPath: string): string {
  return createHash('sha256').update(basename(mountPath)).digest('hex').slice(0, 12)
}

export interface BesideNames {
  readonly stage: string
  readonly old: string
  readonly marker: string
}

export function besideNames(mountPath: string, id: string): BesideNames {
  const parent = dirname(mountPath)
  const h = mountHash(mountPath)
  return {
    stage: join(parent, `.coffer-stage-${h}-${id}`),
    old: join(parent, `.coffer-old-${h}-${id}`),
    marker: join(parent, `.coffer-switch-${h}-${id}`),
  }
}

/** The IDs of whole-mount work areas of `mountPath` found among its parent's entries. */
export function besideIds(mountPath: string, siblings: readonly string[]): string[] {
  const h = mountHash(mountPath)
  const re = new RegExp(`^\\.coffer-(?:stage|old|switch)-${h}-([0-9a-f]+)$`)
  const ids = new Set<string>()
  for (const s of siblings) {
    const m = re.exec(s)
    if (m?.[1]) ids.add(m[1])
  }
  return [...ids]
}

export const insideStage = (mountPath: string, id: string): string =>
  join(mountPath, `.coffer-stage-${id}`)

/** IDs of file-by-file work areas inside a mount, from the mount's entries. */
export function insideIds(entries: readonly string[]): string[] {
  return entries.flatMap((e) => {
    const m = /^\.coffer-stage-([0-9a-f]+)$/.exec(e)
    return m?.[1] ? [m[1]] : []
  })
}

import { posix } from 'node:path'
import { InvalidInputError } from '../errors.js'
import type { Mount } from './environment.js'

/**
 * Mounts of one environment must be apart, by name and by path. A name inside another
 * (`pub` and `pub/media`) would put two mounts' files in one folder of the snapshot tree; a
 * directory inside another would be captured twice, and a restore of the outer one would
 * switch the inner one's directory away while that one is staged into it.
 */
export function findMountOverlap(
  mounts: readonly Mount[],
): { readonly field: string; readonly message: string } | undefined {
  const names = mounts.map((m) =>
    m.name
      .split('/')
      .filter((c) => c !== '')
      .join('/'),
  )
  const paths = mounts.map((m) => posix.resolve(m.path))
  for (let i = 0; i < mounts.length; i++) {
    for (let j = 0; j < mounts.length; j++) {
      if (i === j) continue
      const [a, b] = [mounts[i]!, mounts[j]!]
      if (names[i] === names[j] && i > j)
        return { field: `mounts[${i}].name`, message: `The mount ${a.name} is given twice.` }
      if (names[i]!.startsWith(`${names[j]}/`))
        return {
          field: `mounts[${i}].name`,
          message: `The mount name ${a.name} is inside the mount name ${b.name}: mount names must not nest.`,
        }
      if (paths[i] === paths[j] && i > j)
        return {
          field: `mounts[${i}].path`,
          message: `The mounts ${b.name} and ${a.name} have the same path ${paths[i]}.`,
        }
      if (paths[i]!.startsWith(paths[j] === '/' ? '/' : `${paths[j]}/`) && paths[i] !== paths[j])
        return {
          field: `mounts[${i}].path`,
          message: `The path of the mount ${a.name} (${paths[i]}) is inside the path of the mount ${b.name} (${paths[j]}): mounts must not overlap.`,
        }
    }
  }
  return undefined
}

/** Refuses an environment whose mounts overlap (see `findMountOverlap`). */
export function assertMountsApart(mounts: readonly Mount[]): void {
  const overlap = findMountOverlap(mounts)
  if (overlap) throw new InvalidInputError(overlap.field, overlap.message)
}

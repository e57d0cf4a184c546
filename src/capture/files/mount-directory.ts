import { lstat, readlink, realpath } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { CofferError } from '../../errors.js'

/** Links followed at most, as the kernel's own limit (ELOOP past it). */
const MAX_LINKS = 40

/**
 * The directory a mount's path stands for. Usually the path itself; but deployments that
 * keep uploads across releases (Deployer's or Capistrano's shared directories) make
 * `pub/media` a symbolic link into a shared directory, and the mount is then that
 * directory: its content is what a snapshot must hold, and what a restore must replace. A
 * restore that renamed the link away and put a directory in its place would leave the
 * shared directory as it was, for the next release to link to again.
 *
 * So a symbolic link at the path is followed, link after link, the directories on the way
 * resolved too. Where the last link leads to nothing, that path is returned all the same: a
 * restore creates the directory there, and the recovery of a whole-mount switch killed
 * between its two renames (the directory moved aside) finds its work areas beside it. A
 * link that leads to something other than a directory, or a loop, is refused.
 */
export async function mountDirectory(
  path: string,
  code: 'capture_failed' | 'restore_failed',
): Promise<string> {
  let p = path
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    const st = await lstat(p).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    })
    if (!st?.isSymbolicLink()) {
      if (st && !st.isDirectory() && p !== path)
        throw new CofferError(
          code,
          `The mount path ${path} is a symbolic link to ${p}, which is not a directory.`,
        )
      return p
    }
    const next = resolve(dirname(p), await readlink(p))
    const parent = await realpath(dirname(next)).catch(() => dirname(next))
    p = join(parent, basename(next))
  }
  throw new CofferError(code, `The mount path ${path} is a loop of symbolic links.`)
}

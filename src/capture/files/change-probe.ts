import { execFile } from 'node:child_process'
import { linkSync, lstatSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import { CofferError } from '../../errors.js'

const slash = Buffer.from('/')

/**
 * Refuses a file-by-file switch that the file system would stop half-way: an entry flagged
 * immutable or append-only (`chattr +i`/`+a`, as some harden app/etc/env.php) can be neither
 * renamed nor removed, not even by root, and neither can anything in a directory so flagged.
 * Checked once everything is staged and before the switch is committed, so that the mount
 * stays as it was.
 *
 * A file is probed by linking it into `probeDir` (the kernel refuses a link to such a file
 * with EPERM, as it refuses the rename); directories, which cannot be linked, are asked with
 * `lsattr -d` (where it is missing or the file system has no such flags, nothing is found).
 * `paths` are the entries the switch replaces or removes, relative to `mount`.
 */
export async function refuseUnchangeable(
  mount: string,
  paths: readonly Buffer[],
  probeDir: Buffer,
): Promise<void> {
  const root = Buffer.from(mount)
  const dirs = new Map<string, Buffer>([[root.toString('latin1'), root]])
  const probe = Buffer.concat([probeDir, Buffer.from('/probe')])
  const uid = process.getuid?.()
  for (const rel of paths) {
    const p = Buffer.concat([root, slash, rel])
    const parent = Buffer.from(dirname(p.toString('latin1')), 'latin1')
    dirs.set(parent.toString('latin1'), parent)
    const st = lstatSync(p, { throwIfNoEntry: false })
    if (!st) continue
    if (st.isDirectory()) {
      dirs.set(p.toString('latin1'), p)
      continue
    }
    try {
      linkSync(p, probe)
      unlinkSync(probe)
    } catch (e) {
      // Without root, the kernel (fs.protected_hardlinks) also refuses to link another
      // user's file, which a rename would still move: only a file of one's own tells.
      if ((e as NodeJS.ErrnoException).code === 'EPERM' && (uid === 0 || st.uid === uid))
        throw refusal(p)
    }
  }
  const flagged = await flaggedDirectories([...dirs.values()])
  if (flagged) throw refusal(flagged)
}

function refusal(p: Buffer): CofferError {
  return new CofferError(
    'restore_failed',
    `Cannot switch ${p.toString()} file by file: it is immutable or append-only (chattr +i or +a), so it can be neither replaced nor removed. Remove the flag (chattr -i or -a) and restore again. Nothing was changed.`,
  )
}

/** The first of `dirs` that `lsattr -d` shows as immutable or append-only. */
function flaggedDirectories(all: readonly Buffer[]): Promise<Buffer | undefined> {
  // Arguments reach a process as UTF-8: a name that is not UTF-8 cannot be asked about.
  const dirs = all.filter((d) => Buffer.from(d.toString(), 'utf8').equals(d))
  return new Promise((resolve) => {
    execFile(
      'lsattr',
      ['-d', '--', ...dirs.map((d) => d.toString())],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
      // lsattr fails for a file system without flags, and is missing on some systems: what
      // it printed is all there is to know.
      (_err, stdout) => {
        const byName = new Map(dirs.map((d) => [d.toString(), d]))
        for (const line of (stdout ?? '').split('\n')) {
          const m = /^(\S+) (.*)$/.exec(line)
          if (m && /[ia]/.test(m[1]!) && byName.has(m[2]!)) return resolve(byName.get(m[2]!))
        }
        resolve(undefined)
      },
    )
  })
}

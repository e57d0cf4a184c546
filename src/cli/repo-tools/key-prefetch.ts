import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { startScrypt64 } from '../../lib/index.js'
import { readPassword } from './password.js'

/** Key files of a local repository whose derivations start early (most have one). */
const KEYS_PREFETCHED = 2

/**
 * scrypt's working set (128 · N · r · p bytes) beyond which a key file's derivation is left to
 * the open: 256 MiB, N = 2^18 at r = 8, four times what restic's calibration allows itself.
 * A command that stops early (a usage error) still waits for a derivation it started, so an
 * early start must stay cheap; the open pays for a costlier key only when it needs it.
 */
const MAX_PREFETCH_BYTES = 256 * 1024 * 1024
const MAX_KEY_FILE_BYTES = 64 * 1024

/**
 * Starts deriving the key of a command's local repository before the command's modules load
 * (lib's startScrypt64): the KDF (0.1–0.3 s of scrypt on a pool thread) then overlaps the
 * loading instead of following it, and the repository's open takes the result. Reads the key
 * files only; anything unusual (no password yet, an S3 location, no such directory, a file
 * that is not a key) just leaves the derivation to the open, which reports it properly.
 */
export async function prefetchRepoKey(cmd: Command): Promise<void> {
  const flags = cmd.optsWithGlobals<{ repo?: string; passwordFile?: string }>()
  const location = flags.repo ?? process.env.COFFER_REPOSITORY
  if (!location || (/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('local:'))) return
  const password = await readPassword(flags.passwordFile).catch(() => undefined)
  if (password === undefined) return
  const dir = join(location.replace(/^local:/, ''), 'keys')
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n))
  } catch {
    return
  }
  for (const name of names.slice(0, KEYS_PREFETCHED)) {
    try {
      const file = join(dir, name)
      // A key file is a few hundred bytes: anything else is the open's to judge.
      if (statSync(file).size > MAX_KEY_FILE_BYTES) continue
      const f = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
      const { kdf, N, r, p, salt } = f
      if (kdf !== 'scrypt' || typeof salt !== 'string') continue
      if (!isCount(N) || !isCount(r) || !isCount(p) || 128 * N * r * p > MAX_PREFETCH_BYTES)
        continue
      startScrypt64(password, Buffer.from(salt, 'base64'), { N, r, p })
    } catch {
      // Not a readable key file: the open says so.
    }
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1

import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CofferError } from '../errors.js'

export const MASTER_KEY_FILE = 'master.key'

/** Parses a master key given as 64 hex digits or base64 of 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const t = text.trim()
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64')
  if (key.length !== 32)
    throw new CofferError(
      'invalid_input',
      'The master key must be 32 bytes, given as 64 hex digits or base64.',
    )
  return key
}

/**
 * The server's master key: `given` (from `COFFER_MASTER_KEY`, read by the CLI) when set;
 * else `DIR/master.key`, created on first start with mode 0600. An existing key file that
 * others may read is refused rather than used: it guards every stored secret.
 */
export async function loadMasterKey(dataDir: string, given?: string): Promise<Buffer> {
  if (given) return parseMasterKey(given)
  const file = join(dataDir, MASTER_KEY_FILE)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  try {
    const fh = await open(file, 'wx', 0o600)
    try {
      await fh.writeFile(randomBytes(32).toString('base64') + '\n')
    } finally {
      await fh.close()
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  }
  const mode = (await stat(file)).mode & 0o777
  if (mode & 0o077) {
    throw new CofferError(
      'refused',
      `The master key file ${file} may be read by other users (mode ${mode.toString(8)}); run chmod 600 on it.`,
    )
  }
  await chmod(file, 0o600)
  return parseMasterKey(await readFile(file, 'utf8'))
}

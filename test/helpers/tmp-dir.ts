import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temporary directory named after `label`; remove it with `cleanup`. */
export async function makeTempDir(
  label: string,
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const safe = label.replace(/[^a-zA-Z0-9_-]+/g, '-').slice(0, 60)
  const path = await mkdtemp(join(tmpdir(), `coffer-${safe}-`))
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) }
}

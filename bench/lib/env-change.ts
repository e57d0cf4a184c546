import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { settleDisk } from './measure.js'
import { connectServer } from './server-session.js'
import { settleServer } from './server-settle.js'
import { changeShopRows } from './shop-dataset.js'

/** Rewrites every 1/fraction-th image under `dir` with new bytes; returns how many. */
export async function changeFiles(dir: string, fraction: number): Promise<number> {
  const every = Math.round(1 / fraction)
  const files: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) files.push(p)
    }
  }
  await walk(dir)
  files.sort()
  let n = 0
  for (let i = 0; i < files.length; i += every) {
    await writeFile(files[i]!, Buffer.from(`changed ${i} ${Date.now()}`.repeat(500)))
    n++
  }
  return n
}

/** What one "1 % changed" step changes (see changeEnvironment). */
export interface EnvChange {
  /** The server, without a database: mysql://user[:password]@host[:port]. */
  readonly server: string
  readonly database: string
  /** Selects the slice of sales_order_item changed (changeShopRows). */
  readonly round: number
  readonly media: string
}

/**
 * The env bench's "1 % changed": 1 % of sales_order_item's rows and of the images, then the
 * disk and the server settled (as before every measured command).
 */
export async function changeEnvironment(c: EnvChange): Promise<void> {
  const session = await connectServer(new URL(c.server))
  try {
    await changeShopRows(session, c.database, 0.01, c.round)
    await changeFiles(c.media, 0.01)
    settleDisk()
    await settleServer(session)
  } finally {
    await session.end()
  }
}

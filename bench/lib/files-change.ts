import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The files bench's "1 % changed": rewrites 1 % of the images of the mounts data set (new
 * content, same names; one image in each of the first directories); returns how many.
 */
export async function changeOnePercent(root: string, scale: number, seed: string): Promise<number> {
  const want = Math.max(1, Math.round(150 * scale))
  const product = join(root, 'pub/media/catalog/product')
  let n = 0
  for (const d1 of '0123456789abcdef') {
    for (const d2 of '0123456789abcdef') {
      if (n >= want) return n
      const dir = join(product, d1, d2)
      const names = await readdir(dir).catch(() => [])
      for (const f of names.slice(0, 1)) {
        await writeFile(join(dir, f), Buffer.from(`${seed} ${f} `.repeat(4000)))
        n++
      }
    }
  }
  return n
}

import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const PRODUCTS = ['mug', 'tee', 'cap', 'tote', 'poster', 'sticker'] as const
const COLORS = ['#2f5fd0', '#d0472f', '#2fa36b', '#d0a02f', '#7b4fd0', '#2fb3c9'] as const

function productImage(name: string, color: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320">` +
    `<rect width="320" height="320" fill="${color}"/>` +
    `<circle cx="160" cy="140" r="70" fill="#fff" opacity="0.85"/>` +
    `<text x="160" y="270" font-family="sans-serif" font-size="36" text-anchor="middle" fill="#fff">${name}</text>` +
    `</svg>\n`
  )
}

/**
 * The mounts of a demo environment, Magento-shaped: `pub/media` with product images and
 * `var/log` with a few days of logs. Returns the mounts as the API takes them.
 */
export async function writeDemoMounts(
  root: string,
  label: string,
  now: Date,
): Promise<{ name: string; path: string }[]> {
  const media = join(root, 'pub', 'media')
  const catalog = join(media, 'catalog', 'product')
  const logs = join(root, 'var', 'log')
  await mkdir(catalog, { recursive: true })
  await mkdir(logs, { recursive: true })
  for (const [i, name] of PRODUCTS.entries())
    await writeFile(join(catalog, `${name}.svg`), productImage(name, COLORS[i]!))
  await writeFile(join(media, 'logo.svg'), productImage(label, '#1d2330'))
  const day = 24 * 3_600_000
  let system = ''
  let exception = ''
  for (let d = 3; d >= 0; d--) {
    const at = new Date(now.getTime() - d * day)
    for (let h = 0; h < 24; h += 3) {
      const t = new Date(at.getTime() + h * 3_600_000).toISOString()
      system += `[${t}] main.INFO: Cache cleaned: config, layout, full_page [] []\n`
      system += `[${t}] main.INFO: Cron job indexer_reindex_all_invalid completed [] []\n`
    }
    exception += `[${at.toISOString()}] main.WARNING: Payment gateway timeout, retrying [] []\n`
  }
  await writeFile(join(logs, 'system.log'), system)
  await writeFile(join(logs, 'exception.log'), exception)
  return [
    { name: 'pub/media', path: media },
    { name: 'var/log', path: logs },
  ]
}

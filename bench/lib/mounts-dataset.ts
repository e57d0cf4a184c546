import { createCipheriv, createHash } from 'node:crypto'
import { access, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The mounts data set of ../shared/bench/README.md ("scale 1"): 15,000 incompressible
 * images of 20–180 KB in 256 directories (every tenth a byte-for-byte copy of an earlier
 * one under a new name), three large compressible logs of 400 k lines, app/etc files and a
 * relative symlink — about 1.6 GB. Deterministic (seeded), written once and reused.
 */
export async function ensureMountsDataset(root: string, scale = 1): Promise<string> {
  const done = join(root, '.complete')
  if (
    await access(done).then(
      () => true,
      () => false,
    )
  )
    return root
  const files = Math.round(15_000 * scale)
  const rnd = (seed: string, n: number): Buffer => {
    const key = createHash('sha256').update(seed).digest()
    return createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16)).update(
      Buffer.alloc(n),
    )
  }
  const sizes = rnd('sizes', files * 4)
  const paths: string[] = []
  for (let i = 0; i < files; i++) {
    const x = (i % 16).toString(16)
    const y = (Math.floor(i / 16) % 16).toString(16)
    const dir = join(root, 'pub/media/catalog/product', x, y)
    if (i < 256) await mkdir(dir, { recursive: true })
    const p = join(dir, `img${String(i).padStart(6, '0')}.jpg`)
    if (i % 10 === 9) await copyFile(paths[Math.floor(i / 2)]!, p)
    else await writeFile(p, rnd(`img${i}`, 20_000 + (sizes.readUInt32LE(i * 4) % 160_000)))
    paths.push(p)
  }
  await mkdir(join(root, 'var/log'), { recursive: true })
  const levels = ['INFO', 'DEBUG', 'WARNING', 'ERROR']
  for (const name of ['system', 'exception', 'debug']) {
    const lines: string[] = []
    for (let i = 0; i < 400_000 * scale; i++) {
      lines.push(
        `[2026-03-08T17:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}+00:00] main.${levels[i % 4]}: Request ${i} to /catalog/product/view/id/${(i * 7919) % 200_000} took ${(i * 31) % 997} ms {"customer":${i % 5000}}`,
      )
    }
    await writeFile(join(root, 'var/log', `${name}.log`), lines.join('\n') + '\n')
  }
  await mkdir(join(root, 'app/etc'), { recursive: true })
  await writeFile(
    join(root, 'app/etc/env.php'),
    "<?php\nreturn ['db' => ['connection' => ['default' => ['host' => 'localhost']]]];\n",
  )
  await writeFile(
    join(root, 'app/etc/config.php'),
    "<?php\nreturn ['modules' => ['Magento_Store' => 1]];\n",
  )
  await symlink('env.php', join(root, 'app/etc/env.link.php'))
  await writeFile(done, '')
  return root
}

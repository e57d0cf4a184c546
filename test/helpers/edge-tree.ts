import { chmod, link, mkdir, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { seededBytes, seededText } from './seeded-bytes.js'

const b = (s: string): Buffer => Buffer.from(s, 'utf8')
const raw = (dir: string, name: Buffer): Buffer => Buffer.concat([b(dir), b('/'), name])

/**
 * Writes a directory tree with the cases a backup must keep exactly: empty and large files,
 * duplicates, modes, fixed mtimes, symlinks (relative, absolute, dangling, non-UTF-8 target),
 * empty directories, hard links, and names with newlines, backslashes, quotes, invalid
 * UTF-8, 255 bytes, and a deep path. `bigBytes` sets the size of the large random file.
 */
export async function writeEdgeTree(root: string, opts: { bigBytes?: number } = {}): Promise<void> {
  const big = opts.bigBytes ?? 12 * 1024 * 1024
  await mkdir(join(root, 'docs/empty-dir'), { recursive: true })
  await mkdir(join(root, 'media/a/b/c/d/e/f/g/h'), { recursive: true })
  await writeFile(join(root, 'empty.txt'), '')
  await writeFile(join(root, 'small.txt'), 'hello, coffer\n')
  await writeFile(join(root, 'exact-512k.bin'), seededBytes('exact', 512 * 1024))
  await writeFile(join(root, 'big.bin'), seededBytes('big', big))
  await writeFile(join(root, 'media/copy-of-big.bin'), seededBytes('big', big))
  await writeFile(join(root, 'log.txt'), seededText('log', 3 * 1024 * 1024))
  await writeFile(join(root, 'media/a/b/c/d/e/f/g/h/deep.txt'), 'deep\n')
  await writeFile(join(root, 'secret.key'), 'not really\n')
  await chmod(join(root, 'secret.key'), 0o600)
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n')
  await chmod(join(root, 'run.sh'), 0o755)
  await writeFile(join(root, 'hard-1.txt'), 'linked content\n')
  await link(join(root, 'hard-1.txt'), join(root, 'docs/hard-2.txt'))
  await symlink('small.txt', join(root, 'link-relative'))
  await symlink('/etc/hostname', join(root, 'link-absolute'))
  await symlink('does/not/exist', join(root, 'link-dangling'))
  await symlink(Buffer.from([0x74, 0xe9, 0x74, 0x65]), raw(root, b('link-latin1-target')))
  for (const name of [
    b('new\nline'),
    b('back\\slash"quote'),
    b('tab\there'),
    b('space and ünïcödé 李 🎉'),
    b('<html>&amp;'),
    Buffer.from([0x63, 0x61, 0x66, 0xe9]), // "café" in latin1: not UTF-8
    Buffer.from([0xff, 0xfe, 0x41]),
    b('x'.repeat(255)),
    b('-starts-with-dash'),
    b('.hidden'),
  ]) {
    await writeFile(raw(join(root, 'names'), name), name).catch(async () => {
      await mkdir(join(root, 'names'), { recursive: true })
      await writeFile(raw(join(root, 'names'), name), name)
    })
  }
  // Fixed times, including ones before 1970 and one with nanoseconds set. A time before 1970
  // is given as a Date or a numeric string: Node sets a negative number as the current time.
  await utimes(
    join(root, 'small.txt'),
    new Date('2020-02-29T12:34:56.789Z'),
    new Date('2020-02-29T12:34:56.789Z'),
  )
  await utimes(join(root, 'empty.txt'), 1_000_000_000.123456, new Date('1969-01-01T00:00:00Z'))
  await utimes(join(root, 'run.sh'), '-31536000.123456', '-1.5')
  await utimes(join(root, 'docs/empty-dir'), 1_600_000_000, 1_600_000_000)
}

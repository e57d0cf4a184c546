import { createCipheriv, createHash } from 'node:crypto'

/** Deterministic pseudo-random bytes from a seed (AES-128-CTR keystream): fast and repeatable. */
export function seededBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  return cipher.update(Buffer.alloc(length))
}

/** Text-like, compressible bytes (log lines) from a seed. */
export function seededText(seed: string, length: number): Buffer {
  const words = [
    'GET',
    'POST',
    '/catalog/product',
    '200',
    '404',
    'INFO',
    'cache',
    'miss',
    'order',
    'customer',
    'Zoë',
    'Jörg',
  ]
  const rnd = seededBytes(seed, Math.ceil(length / 4))
  const parts: string[] = []
  let n = 0
  let i = 0
  while (n < length) {
    const w = `${words[rnd[i++ % rnd.length]! % words.length]} `
    parts.push(i % 12 === 0 ? `${w}\n` : w)
    n += Buffer.byteLength(w) + (i % 12 === 0 ? 1 : 0)
  }
  return Buffer.from(parts.join('')).subarray(0, length)
}

/**
 * Random bytes with runs of zeros and copies of one 3,000-byte block in them, one of either
 * every `spacing` bytes on average: data on which chunkers find both random and degenerate
 * windows.
 */
export function mixedBytes(seed: string, length: number, spacing: number): Uint8Array {
  const data = new Uint8Array(seededBytes(seed, length))
  const block = seededBytes(`${seed}-block`, 3000)
  const rnd = seededBytes(`${seed}-layout`, 4096)
  for (let i = 0, r = 0; i < length; r += 2) {
    const pick = rnd[r % rnd.length]!
    const len = 100 + 16 * rnd[(r + 1) % rnd.length]!
    if (pick % 3 === 0) data.fill(0, i, Math.min(length, i + len))
    else if (pick % 3 === 1) data.set(block.subarray(0, Math.min(block.length, length - i)), i)
    i += len + Math.round((pick * spacing) / 128)
  }
  return data
}

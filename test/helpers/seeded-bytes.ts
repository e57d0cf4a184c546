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

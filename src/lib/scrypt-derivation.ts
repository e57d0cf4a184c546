import { scrypt } from 'node:crypto'

/** scrypt's cost parameters, as a restic key file stores them. */
export interface ScryptParams {
  readonly N: number
  readonly r: number
  readonly p: number
}

interface Started {
  readonly password: string
  readonly derived: Promise<Buffer>
}

/**
 * Derivations started ahead of the code that needs them, by salt and parameters. A command
 * that opens a repository spends 0.1–0.3 s in scrypt, on a thread of libuv's pool while its
 * main thread waits; started as soon as the command line is parsed, it runs while the main
 * thread still loads the command's modules, and the repository's open takes the result.
 */
const started = new Map<string, Started>()

const keyOf = (salt: Uint8Array, params: ScryptParams): string =>
  `${params.N},${params.r},${params.p},${Buffer.from(salt).toString('base64')}`

/** Derives 64 bytes (a restic user key) from `password` with scrypt, off the main thread. */
function derive(password: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  // node:crypto needs headroom beyond 128 * N * r bytes for scrypt's working set.
  const maxmem = 128 * params.N * params.r * params.p + 64 * 1024 * 1024
  const { N, r, p } = params
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), salt, 64, { N, r, p, maxmem }, (err, key) => {
      if (err) reject(err)
      else resolve(key)
    })
  })
}

/**
 * Starts deriving the 64 bytes a restic key file's password gives, for `scrypt64` to take
 * later. The same salt and parameters started twice derive once. A failure is kept for the
 * taker, never thrown here.
 */
export function startScrypt64(password: string, salt: Uint8Array, params: ScryptParams): void {
  const key = keyOf(salt, params)
  if (started.has(key)) return
  const derived = derive(password, salt, params)
  derived.catch(() => undefined)
  started.set(key, { password, derived })
}

/**
 * The 64 bytes scrypt derives from `password`, `salt` and `params`: the derivation
 * `startScrypt64` began for the same inputs if there is one (taken once: it is forgotten
 * here), else a new one.
 */
export function scrypt64(
  password: string,
  salt: Uint8Array,
  params: ScryptParams,
): Promise<Buffer> {
  const key = keyOf(salt, params)
  const early = started.get(key)
  if (early) {
    started.delete(key)
    if (early.password === password) return early.derived
  }
  return derive(password, salt, params)
}

/** How many early derivations wait to be taken (tests; a command should leave none). */
export function startedScryptCount(): number {
  return started.size
}

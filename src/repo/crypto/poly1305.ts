import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * Poly1305 from libsodium, through sodium-native's addon.
 *
 * sodium-native's own entry point finds its prebuilt addon through a chain of resolver
 * modules (require-addon, bare-addon-resolve, bare-semver, …): 30–40 ms of CPU on every
 * thread that loads it, where the addon itself loads in 3. Every crypto worker and the main
 * thread of every command paid that. So the addon is loaded straight from the package's
 * `prebuilds/<platform>-<arch>/` directory when it is there, and through the package's entry
 * point otherwise (a build from source, another layout). The addon's functions check no
 * lengths (the entry point's wrappers do): the ones here do, before calling it.
 */

const MAC_BYTES = 16
const KEY_BYTES = 32

interface Binding {
  crypto_onetimeauth(out: Uint8Array, input: Uint8Array, key: Uint8Array): number | void
  crypto_onetimeauth_verify(mac: Uint8Array, input: Uint8Array, key: Uint8Array): boolean
}

const require = createRequire(import.meta.url)

/** The prebuilt addon of this platform, loaded directly; undefined when there is none. */
function prebuiltAddon(): Binding | undefined {
  try {
    const dir = dirname(require.resolve('sodium-native/package.json'))
    const file = join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'sodium-native.node')
    if (!existsSync(file)) return undefined
    const m = { exports: {} as Partial<Binding> }
    process.dlopen(m, file)
    const b = m.exports
    return typeof b.crypto_onetimeauth === 'function' &&
      typeof b.crypto_onetimeauth_verify === 'function'
      ? (b as Binding)
      : undefined
  } catch {
    return undefined
  }
}

const prebuilt = prebuiltAddon()
const addon: Binding = prebuilt ?? (require('sodium-native') as Binding)

/** Where the addon came from: the prebuilds directory, or the package's entry point. */
export const POLY1305_LOADED_FROM: 'prebuilds' | 'package' = prebuilt ? 'prebuilds' : 'package'

function checkLengths(mac: Uint8Array, key: Uint8Array): void {
  if (mac.byteLength !== MAC_BYTES) throw new RangeError(`a Poly1305 MAC is ${MAC_BYTES} bytes`)
  if (key.byteLength !== KEY_BYTES) throw new RangeError(`a Poly1305 key is ${KEY_BYTES} bytes`)
}

/** Writes into `out` (16 bytes) the Poly1305 MAC of `input` under the one-time `key` (r || s). */
export function poly1305(out: Uint8Array, input: Uint8Array, key: Uint8Array): void {
  checkLengths(out, key)
  const status = addon.crypto_onetimeauth(out, input, key)
  if (typeof status === 'number' && status !== 0)
    throw new Error(`Poly1305 failed (status ${status})`)
}

/** Whether `mac` (16 bytes) is the Poly1305 MAC of `input` under the one-time `key`. */
export function poly1305Verify(mac: Uint8Array, input: Uint8Array, key: Uint8Array): boolean {
  checkLengths(mac, key)
  return addon.crypto_onetimeauth_verify(mac, input, key) === true
}

// The part of sodium-native (libsodium bindings; the package ships no types) that Coffer uses.
// It is a CommonJS module: from ESM its exports arrive as the default import.
declare module 'sodium-native' {
  interface Sodium {
    readonly crypto_onetimeauth_BYTES: number
    readonly crypto_onetimeauth_KEYBYTES: number
    /** Poly1305 over `input` with a 32-byte one-time key (r || s); libsodium clamps r. */
    crypto_onetimeauth(output: Uint8Array, input: Uint8Array, key: Uint8Array): void
    crypto_onetimeauth_verify(mac: Uint8Array, input: Uint8Array, key: Uint8Array): boolean
  }
  const sodium: Sodium
  export default sodium
}

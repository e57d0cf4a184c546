/**
 * @module Small named helpers every layer may use: bounded concurrency, the logger shape.
 */
export { forEachLimit } from './for-each-limit.js'
export { Limiter } from './limiter.js'
export { observed, settleAll } from './settle-all.js'
export { COFFER_VERSION } from './version.js'
export { silentLogger } from './logger.js'
export type { Logger } from './logger.js'
export { counted } from './counted.js'
export { Scratch } from './scratch.js'
export { processAlive } from './process-alive.js'
export { workerEntry } from './worker-entry.js'
export { scrypt64, startScrypt64 } from './scrypt-derivation.js'
export type { ScryptParams } from './scrypt-derivation.js'

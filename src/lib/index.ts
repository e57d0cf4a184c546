/**
 * @module Small named helpers every layer may use: bounded concurrency, the logger shape.
 */
export { forEachLimit } from './for-each-limit.js'
export { silentLogger } from './logger.js'
export type { Logger } from './logger.js'

/**
 * @module Go's encodings that restic's format depends on: strconv quoting of names,
 * encoding/json string escaping, and time.Time's RFC 3339 form.
 */
export { decodeRune, quoteGoName, unquoteGoName } from './go-quote.js'
export { goJsonMarshal, goJsonString } from './go-json.js'
export type { GoJsonValue } from './go-json.js'
export {
  fixGoTime,
  formatGoTime,
  GO_ZERO_TIME,
  goTimeFromNs,
  goTimeNow,
  parseGoTime,
} from './go-time.js'
export type { GoTime } from './go-time.js'

import { S3ServiceException } from '@aws-sdk/client-s3'
import { BackendError } from '../../errors.js'

/** Node socket errors that a later attempt may not meet (restic retries all network errors). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'HPE_INVALID_CONSTANT',
  'HPE_INVALID_CHUNK_SIZE',
])

/** TLS verification failures: retrying cannot help; the operator must configure a CA. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** S3 error codes that name a failure of this request, not of the request itself. */
const TRANSIENT_S3_CODES = new Set([
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'BadDigest', // the body was damaged on the way: sending it again fixes it
  'IncompleteBody',
  'XAmzContentSHA256Mismatch',
  'ExpiredToken', // the default chain refreshes temporary credentials
])

/** What failed, for the message: `save data/3f/3f2a…`. */
export interface S3Failure {
  readonly what: string
  readonly where: string
}

/**
 * Turns whatever the SDK or a socket threw into a BackendError with a finished sentence:
 * 5xx, 429, throttling, timeouts and resets are transient (`permanent: false`, the retry
 * wrapper tries again); access, configuration and certificate errors are permanent. The
 * message names the file and the location (never credentials); the original is the `cause`.
 */
export function s3Error(e: unknown, f: S3Failure): BackendError {
  if (e instanceof BackendError) return e
  const prefix = `Cannot ${f.what} in ${f.where}`
  if (e instanceof S3ServiceException) {
    const status = e.$metadata.httpStatusCode ?? 0
    const code = e.name && e.name !== 'Unknown' && !/^\d+$/.test(e.name) ? e.name : ''
    const answered = `the server answered HTTP ${status}${code ? ` (${code})` : ''}`
    // Before the access test: S3 answers a skewed clock with 403 (RequestTimeTooSkewed), and
    // the SDK corrects its clock offset from that answer, so the next attempt passes.
    if (TRANSIENT_S3_CODES.has(code)) {
      return new BackendError(`${prefix}: ${answered}.`, false, { cause: e })
    }
    if (status === 403 || code === 'AccessDenied' || code === 'InvalidAccessKeyId') {
      return new BackendError(
        `${prefix}: access denied (${code || 'HTTP 403'}); check the credentials and the bucket's policy.`,
        true,
        { cause: e },
      )
    }
    if (code === 'SignatureDoesNotMatch') {
      return new BackendError(
        `${prefix}: the server refused the request signature; check the secret key and the region.`,
        true,
        { cause: e },
      )
    }
    if (code === 'NoSuchBucket') {
      // Nothing can be in a bucket that does not exist: opening a repository there says
      // "There is no repository at …", as for a missing prefix or directory.
      return new BackendError(`${prefix}: the bucket does not exist.`, true, {
        code: 'not_found',
        cause: e,
      })
    }
    const transient =
      status >= 500 || status === 429 || status === 408 || TRANSIENT_S3_CODES.has(code)
    return new BackendError(`${prefix}: ${answered}.`, !transient, { cause: e })
  }
  const name = e instanceof Error ? e.name : ''
  const code = errorCode(e)
  if (TLS_CODES.has(code)) {
    return new BackendError(
      `${prefix}: the server's TLS certificate is not trusted (${code}); give its CA bundle.`,
      true,
      { cause: e },
    )
  }
  if (code === 'ENOTFOUND') {
    return new BackendError(`${prefix}: the host name does not resolve.`, true, { cause: e })
  }
  if (name === 'CredentialsProviderError') {
    return new BackendError(
      `${prefix}: no credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile.`,
      true,
      { cause: e },
    )
  }
  // Before the timeout test: the SDK names resets "TimeoutError" too (ECONNRESET, EPIPE).
  if (TRANSIENT_CODES.has(code) && code !== 'ETIMEDOUT') {
    return new BackendError(`${prefix}: the connection failed (${code}).`, false, { cause: e })
  }
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return new BackendError(`${prefix}: the server did not answer in time.`, false, { cause: e })
  }
  // Anything else (a response cut short that does not parse, an unexpected socket state) is
  // most likely the network too: a retry decides, and the retry limit bounds the cost.
  return new BackendError(`${prefix}: ${describe(e)}.`, false, { cause: e })
}

function errorCode(e: unknown): string {
  if (typeof e !== 'object' || e === null) return ''
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string') return code
  const cause = (e as { cause?: unknown }).cause
  return cause !== undefined && cause !== e ? errorCode(cause) : ''
}

/** A short reason from an unknown error: its first line, bounded (SDK messages can be long). */
function describe(e: unknown): string {
  const text = e instanceof Error ? e.message || e.name : String(e)
  const line = text.split('\n')[0] ?? ''
  return line.length > 160 ? `${line.slice(0, 157)}…` : line.replace(/\.$/, '')
}

import { lookup as dnsLookup } from 'node:dns'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { InvalidInputError } from '../../errors.js'
import { silentLogger, type Logger } from '../../lib/index.js'
import type { S3Location } from './s3-location.js'

import type { BucketLookup, ChecksumCalculation } from './s3-options.js'

export { BUCKET_LOOKUPS, CHECKSUM_CALCULATIONS } from './s3-options.js'
export type { BucketLookup, ChecksumCalculation } from './s3-options.js'

/** Static credentials; a holder never prints them (see S3Backend.toJSON). */
export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** How to reach the storage: what the HTTP client needs, nothing about repository files. */
export interface S3ClientOptions {
  /**
   * Explicit credentials. Without them the AWS SDK's default chain applies: AWS_ACCESS_KEY_ID
   * and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_PROFILE and ~/.aws/credentials,
   * SSO, web identity, container and instance roles.
   */
  readonly credentials?: S3Credentials
  /** Signing region; derived from an `s3.<region>.amazonaws.com` host, else `us-east-1`. */
  readonly region?: string
  /** Default `auto`: virtual-host style on AWS hosts, path style elsewhere (MinIO, Ceph…). */
  readonly bucketLookup?: BucketLookup
  /** PEM certificates to trust instead of the system's (a private CA, a self-signed server). */
  readonly ca?: string | Uint8Array
  /** HTTP connections kept to the server (default 5, as restic). */
  readonly connections?: number
  /** Connecting may take this long (default 10 s). */
  readonly connectTimeoutMs?: number
  /** A request fails when no byte moves for this long (default 60 s). */
  readonly idleTimeoutMs?: number
  /**
   * The SDK's request checksums. Left unset, the SDK decides (its default `WHEN_SUPPORTED`,
   * or AWS_REQUEST_CHECKSUM_CALCULATION). Real S3 services accept both; some test servers
   * (s3rver) store the framing of streamed checksum trailers, and need `WHEN_REQUIRED`.
   */
  readonly requestChecksumCalculation?: ChecksumCalculation
  /**
   * Host name → IP address, as curl's `--resolve`: reach a host whose name does not resolve
   * here (virtual-host buckets on a private endpoint). TLS still checks the name.
   */
  readonly resolve?: Readonly<Record<string, string>>
  /** Where the SDK's own notices go, at debug level (default: nowhere). */
  readonly log?: Logger
}

const AWS_HOST = /(^|\.)amazonaws\.com(\.cn)?$/
const AWS_REGIONAL_HOST = /^s3[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/

/**
 * Builds the SDK client for a location. SDK retries are off (`maxAttempts: 1`): retrying is
 * the retry wrapper's job, once, for every backend, with a whole-file view (a save is sent
 * again whole, a list resumes without duplicates).
 */
export function createS3Client(loc: S3Location, opts: S3ClientOptions): S3Client {
  const connections = opts.connections ?? 5
  if (!(connections >= 1))
    throw new InvalidInputError('connections', 'S3 connections must be at least 1.')
  const lookup = opts.resolve ? pinnedLookup(opts.resolve) : undefined
  const agentOptions = {
    keepAlive: true,
    maxSockets: connections,
    ...(lookup ? { lookup } : {}),
  }
  const https = loc.endpoint.startsWith('https:')
  const agent = https
    ? new HttpsAgent({ ...agentOptions, ...(opts.ca ? { ca: toPem(opts.ca) } : {}) })
    : new HttpAgent(agentOptions)
  const lookupStyle = opts.bucketLookup ?? 'auto'
  const isAws = AWS_HOST.test(loc.hostname)
  const forcePathStyle =
    lookupStyle === 'path' ||
    (lookupStyle === 'auto' && !(isAws && /^[a-z0-9-]{3,63}$/.test(loc.bucket)))
  const region = opts.region ?? AWS_REGIONAL_HOST.exec(loc.hostname)?.[1] ?? 'us-east-1'
  const config: S3ClientConfig = {
    region,
    forcePathStyle,
    // The global AWS endpoint serves every region through the SDK's own endpoint rules;
    // elsewhere the location's endpoint is the server.
    ...(loc.hostname === 's3.amazonaws.com' ? {} : { endpoint: loc.endpoint }),
    // AWS answers a request to the wrong region with a redirect naming the right one.
    followRegionRedirects: isAws,
    maxAttempts: 1,
    // Without a logger of its own the SDK writes some notices to the console (stderr of a
    // CLI whose stderr is for the operator); the caller's logger gets them, at debug level.
    logger: sdkLogger(opts.log ?? silentLogger),
    // Packs are small enough that waiting for "100 Continue" costs more than a refused body.
    expectContinueHeader: false,
    ...(opts.credentials ? { credentials: { ...opts.credentials } } : {}),
    ...(opts.requestChecksumCalculation
      ? { requestChecksumCalculation: opts.requestChecksumCalculation }
      : {}),
    requestHandler: {
      ...(https ? { httpsAgent: agent } : { httpAgent: agent }),
      connectionTimeout: opts.connectTimeoutMs ?? 10_000,
      socketTimeout: opts.idleTimeoutMs ?? 60_000,
    },
  }
  return new S3Client(config)
}

/** The SDK's logger shape over ours; its messages are data, under a constant message. */
function sdkLogger(log: Logger): NonNullable<S3ClientConfig['logger']> {
  const at =
    (level: string) =>
    (...content: unknown[]): void =>
      log.debug(
        { level, sdk: content.map((c) => (typeof c === 'string' ? c : '[object]')) },
        'aws sdk',
      )
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  }
}

function toPem(ca: string | Uint8Array): string {
  return typeof ca === 'string' ? ca : Buffer.from(ca).toString('utf8')
}

/** A DNS lookup that answers pinned names itself and asks the system for the others. */
function pinnedLookup(pins: Readonly<Record<string, string>>): LookupFunction {
  return (hostname, options, callback) => {
    const address = pins[hostname]
    if (address === undefined) {
      dnsLookup(hostname, options, callback)
      return
    }
    const family = isIP(address)
    // Node asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily).
    if (options.all) callback(null, [{ address, family }])
    else callback(null, address, family)
  }
}

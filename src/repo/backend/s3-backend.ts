import { Readable } from 'node:stream'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3'
import { BackendError, InvalidInputError } from '../../errors.js'
import {
  CONFIG_HANDLE,
  handleName,
  type Backend,
  type CallOptions,
  type FileInfo,
  type FileType,
  type Handle,
  type LoadOptions,
} from './backend.js'
import { notFoundError } from './backend-errors.js'
import { createS3Client, type S3ClientOptions } from './s3-client.js'
import { s3Error } from './s3-errors.js'
import { parseS3Location, type S3Location } from './s3-location.js'
import { putMultipart, putSingle } from './s3-upload.js'
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from './retry-policy.js'

const MIB = 1024 * 1024
/** S3's smallest part (all but the last): AWS refuses smaller ones. */
const MIN_PART_SIZE = 5 * MIB

export interface S3BackendOptions extends S3ClientOptions {
  /** Storage class of data packs (`STANDARD_IA`, …); metadata files keep the bucket's default. */
  readonly storageClass?: string
  /** Files larger than this are sent as multipart uploads (default 64 MiB, above a pack). */
  readonly multipartThreshold?: number
  /** Size of each multipart part (default 16 MiB, at least 5 MiB). */
  readonly partSize?: number
  /** Parts of one file sent at once (default 4). */
  readonly partConcurrency?: number
  /** Keys asked for per ListObjectsV2 page (default 1000, S3's maximum). */
  readonly listPageSize?: number
  /** Whether `create` makes the bucket when it does not exist (default true, as restic). */
  readonly createBucket?: boolean
  /**
   * Retries of one page of a listing (default none). A retry wrapper can only restart a
   * whole listing; over a lossy network a listing of many pages might then never finish,
   * while a page is cheap to ask for again with its continuation token.
   */
  readonly pageRetry?: RetryPolicy
}

/**
 * A repository in an S3-compatible bucket, under an optional prefix, with restic's layout
 * (`internal/backend/layout/layout_default.go`): `config`, `keys/<id>`, `locks/<id>`,
 * `snapshots/<id>`, `index/<id>`, `data/<first two hex>/<id>`. restic and Coffer read and
 * write each other's buckets.
 *
 * - Saves are verified before they count (see `putSingle`, `putMultipart`): ETag or size.
 *   S3 makes an object visible only once whole, so a failed or aborted save leaves nothing.
 * - Loads use ranged GETs; a body shorter than announced (a dropped connection) rejects
 *   transiently, a file shorter than the range asked for rejects permanently.
 * - Listing pages through ListObjectsV2. Removing a missing object is not an error.
 * - Errors are BackendErrors (see `s3Error`); this class does not retry: wrap it in a
 *   RetryBackend (and a LimitBackend) as `openBackend` does.
 */
export class S3Backend implements Backend {
  readonly location: string
  readonly connections: number
  private readonly loc: S3Location
  private readonly client: S3Client
  private readonly storageClass: string | undefined
  private readonly multipartThreshold: number
  private readonly partSize: number
  private readonly partConcurrency: number
  private readonly listPageSize: number
  private readonly createBucket: boolean
  private readonly pageRetry: RetryPolicy

  constructor(location: string | S3Location, opts: S3BackendOptions = {}) {
    this.loc = typeof location === 'string' ? parseS3Location(location) : location
    this.location = this.loc.display
    this.connections = opts.connections ?? 5
    this.storageClass = opts.storageClass
    this.multipartThreshold = opts.multipartThreshold ?? 64 * MIB
    this.partSize = opts.partSize ?? 16 * MIB
    this.partConcurrency = opts.partConcurrency ?? 4
    this.listPageSize = opts.listPageSize ?? 1000
    this.createBucket = opts.createBucket ?? true
    this.pageRetry = opts.pageRetry ?? { maxAttempts: 1 }
    if (this.partSize < MIN_PART_SIZE) {
      throw new InvalidInputError('part-size', 'The S3 part size must be at least 5 MiB.')
    }
    if (!(this.partConcurrency >= 1) || !(this.listPageSize >= 1)) {
      throw new InvalidInputError('s3', 'S3 part concurrency and list page size must be positive.')
    }
    this.client = createS3Client(this.loc, opts)
  }

  /** What a log line may show: the location, never the client (it holds the credentials). */
  toJSON(): { location: string; connections: number } {
    return { location: this.location, connections: this.connections }
  }

  private key(h: Handle): string {
    return this.loc.prefix ? `${this.loc.prefix}/${handleName(h)}` : handleName(h)
  }

  private fail(e: unknown, what: string, signal: AbortSignal | undefined): never {
    if (signal?.aborted) throw signal.reason
    throw s3Error(e, { what, where: this.location })
  }

  async create(opts?: CallOptions): Promise<void> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    const Bucket = this.loc.bucket
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }), { abortSignal: signal })
    } catch (e) {
      const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined
      // 403: the credentials may write objects without seeing the bucket (restic assumes it
      // exists too). 404: make it, unless told not to.
      if (status === 404 && this.createBucket) {
        await this.client
          .send(new CreateBucketCommand({ Bucket }), { abortSignal: signal })
          .catch((err: unknown) => {
            if (err instanceof S3ServiceException && err.name === 'BucketAlreadyOwnedByYou') return
            this.fail(err, `create the bucket ${Bucket}`, signal)
          })
      } else if (status === 404) {
        throw new BackendError(`The bucket of ${this.location} does not exist.`, true, { cause: e })
      } else if (status !== 403) {
        this.fail(e, `open the bucket ${Bucket}`, signal)
      }
    }
    const exists = await this.stat(CONFIG_HANDLE, opts).then(
      () => true,
      (e: unknown) => {
        if (e instanceof BackendError && e.code === 'not_found') return false
        throw e
      },
    )
    if (exists) {
      throw new BackendError(`A repository already exists at ${this.location}.`, true, {
        code: 'repo_exists',
      })
    }
  }

  async save(
    h: Handle,
    data: Uint8Array | readonly Uint8Array[],
    opts?: CallOptions,
  ): Promise<void> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    const parts = data instanceof Uint8Array ? [data] : data
    const size = parts.reduce((n, p) => n + p.length, 0)
    const target = {
      client: this.client,
      bucket: this.loc.bucket,
      key: this.key(h),
      parts,
      size,
      ...(this.storageClass && h.type === 'data' ? { storageClass: this.storageClass } : {}),
      ...(signal ? { signal } : {}),
    }
    try {
      if (size > this.multipartThreshold) {
        await putMultipart(target, {
          partSize: this.partSize,
          partConcurrency: this.partConcurrency,
        })
      } else {
        await putSingle(target)
      }
    } catch (e) {
      this.fail(e, `save ${handleName(h)}`, signal)
    }
  }

  async load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    const offset = opts?.offset ?? 0
    const length = opts?.length
    if (offset < 0 || (length !== undefined && length < 0)) {
      throw new BackendError(`Cannot read ${handleName(h)}: negative offset or length.`, true)
    }
    if (length === 0) {
      const { size } = await this.stat(h, opts)
      if (offset > size) throw this.short(h, size, offset)
      return Buffer.alloc(0)
    }
    let range: string | undefined
    if (length !== undefined) range = `bytes=${offset}-${offset + length - 1}`
    else if (offset > 0) range = `bytes=${offset}-`
    let res
    try {
      res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.key(h),
          ...(range ? { Range: range } : {}),
        }),
        { abortSignal: signal },
      )
    } catch (e) {
      if (isMissing(e)) throw notFoundError(h, this.location, e)
      if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 416) {
        // The range starts past the end: a whole read from exactly the end is empty.
        const { size } = await this.stat(h, opts)
        if (length === undefined && offset === size) return Buffer.alloc(0)
        throw this.short(h, size, offset + (length ?? 0))
      }
      this.fail(e, `read ${handleName(h)}`, signal)
    }
    const announced = res.ContentLength
    const body = res.Body
    if (announced === undefined || !(body instanceof Readable)) {
      if (body instanceof Readable) body.destroy()
      throw new BackendError(
        `Cannot read ${handleName(h)} in ${this.location}: the server sent no length.`,
        false,
      )
    }
    if (length !== undefined && announced < length) {
      // The server clamps a range to the end of the object: the file is shorter than asked.
      body.destroy()
      const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1]
      throw this.short(h, total ? Number(total) : offset + announced, offset + length)
    }
    const expected = length ?? announced
    const buf = opts?.into?.(expected) ?? Buffer.allocUnsafe(expected)
    if (buf.length !== expected) {
      body.destroy()
      throw new TypeError(`A buffer of ${expected} bytes was asked for; ${buf.length} were given.`)
    }
    try {
      return await readBody(body, buf, signal)
    } catch (e) {
      this.fail(e, `read ${handleName(h)}`, signal)
    }
  }

  private short(h: Handle, size: number, wanted: number): BackendError {
    return new BackendError(
      `Repository file ${handleName(h)} is shorter than expected (${size} bytes, wanted ${wanted}).`,
      true,
    )
  }

  async stat(h: Handle, opts?: CallOptions): Promise<FileInfo> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    try {
      const res = await this.client.send(
        new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(h) }),
        { abortSignal: signal },
      )
      return { name: h.name, size: res.ContentLength ?? 0 }
    } catch (e) {
      if (isMissing(e)) throw notFoundError(h, this.location, e)
      this.fail(e, `stat ${handleName(h)}`, signal)
    }
  }

  async *list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    if (type === 'config') {
      try {
        yield await this.stat(CONFIG_HANDLE, opts)
      } catch (e) {
        if (!(e instanceof BackendError && e.code === 'not_found')) throw e
      }
      return
    }
    const base = `${this.loc.prefix ? `${this.loc.prefix}/` : ''}${type}/`
    // `data/` holds one level of two-hex subdirectories (restic's layout); other types none.
    const shape = type === 'data' ? /^[0-9a-f]{2}\/([^/]+)$/ : /^([^/]+)$/
    let token: string | undefined
    do {
      const input = {
        Bucket: this.loc.bucket,
        Prefix: base,
        MaxKeys: this.listPageSize,
        ...(token ? { ContinuationToken: token } : {}),
      }
      const page = await withRetries(
        `list ${type}`,
        () =>
          this.client
            .send(new ListObjectsV2Command(input), { abortSignal: signal })
            .catch((e: unknown) => this.fail(e, `list ${type}`, signal)),
        this.pageRetry,
        signal,
      ).catch((e: unknown) => {
        // Retried here already: a retry wrapper around this backend must not multiply the
        // attempts (8 page attempts, 8 listings over) while the operator waits.
        if (
          e instanceof BackendError &&
          !e.permanent &&
          (this.pageRetry.maxAttempts ?? DEFAULT_RETRY.maxAttempts) > 1
        ) {
          throw new BackendError(e.message, true, { code: e.code, cause: e })
        }
        throw e
      })
      for (const o of page.Contents ?? []) {
        const name = shape.exec((o.Key ?? '').slice(base.length))?.[1]
        if (name !== undefined) yield { name, size: o.Size ?? 0 }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  async remove(h: Handle, opts?: CallOptions): Promise<void> {
    const signal = opts?.signal
    signal?.throwIfAborted()
    try {
      // S3 answers 204 for a missing key; some compatible servers answer 404.
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.key(h) }),
        {
          abortSignal: signal,
        },
      )
    } catch (e) {
      if (isMissing(e)) return
      this.fail(e, `remove ${handleName(h)}`, signal)
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}

function isMissing(e: unknown): boolean {
  return (
    e instanceof S3ServiceException &&
    (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata.httpStatusCode === 404) &&
    e.name !== 'NoSuchBucket'
  )
}

/**
 * Reads exactly `buf.length` bytes into `buf`. Fewer (the connection ended early) or more
 * is an error that s3Error maps to transient: the bytes in hand cannot be trusted, a new
 * request can.
 */
async function readBody(body: Readable, buf: Buffer, signal?: AbortSignal): Promise<Buffer> {
  const expected = buf.length
  let got = 0
  const onAbort = (): void => {
    body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (got + chunk.length > expected) {
        throw new Error(`the server sent more than the ${expected} bytes announced`)
      }
      buf.set(chunk, got)
      got += chunk.length
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    body.destroy()
  }
  if (got !== expected) {
    // A plain error: s3Error words it with the file and location, as transient.
    throw new Error(`the connection ended after ${got} of ${expected} bytes`)
  }
  return buf
}

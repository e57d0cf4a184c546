import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3'
import { forEachLimit } from '../../lib/index.js'

/** One object to upload, already in memory as a list of byte ranges. */
export interface UploadTarget {
  readonly client: S3Client
  readonly bucket: string
  readonly key: string
  readonly parts: readonly Uint8Array[]
  readonly size: number
  readonly storageClass?: string
  readonly signal?: AbortSignal
}

export interface MultipartOptions {
  readonly partSize: number
  readonly partConcurrency: number
}

/**
 * Uploads with one PutObject and returns only once the object is verified.
 *
 * Verified means: the server's ETag equals the MD5 of the bytes sent (what S3 computes for an
 * unencrypted single-part object), or — when the server reports an ETag of another form
 * (SSE-KMS, SSE-C, some gateways) — HeadObject reports exactly the size sent. The request
 * also carries Content-MD5, so a server that checks it (AWS, MinIO, Ceph) refuses a body
 * damaged on the way. A server that stored something else (a proxy that cut the body, a
 * server keeping transfer framing) fails the check: the save rejects, transiently, and is
 * sent again whole by the retry wrapper.
 */
export async function putSingle(t: UploadTarget): Promise<void> {
  const md5 = md5Of(t.parts)
  const res = await t.client.send(
    new PutObjectCommand({
      Bucket: t.bucket,
      Key: t.key,
      Body: bodyOf(t.parts),
      ContentLength: t.size,
      ContentMD5: md5.toString('base64'),
      ContentType: 'application/octet-stream',
      ...(t.storageClass ? { StorageClass: t.storageClass as StorageClass } : {}),
    }),
    { abortSignal: t.signal },
  )
  if (unquote(res.ETag) === md5.toString('hex')) return
  await verifySize(t)
}

/**
 * Uploads in parts of `partSize` (the last one shorter), at most `partConcurrency` at once,
 * then completes the upload and verifies it: the ETag equals S3's multipart form (MD5 of the
 * parts' MD5s, `-N`), or HeadObject reports exactly the size sent. Each part carries its
 * Content-MD5. Until completion nothing is visible under the key; a failure aborts the
 * upload so that no parts linger (and bill).
 */
export async function putMultipart(t: UploadTarget, m: MultipartOptions): Promise<void> {
  const created = await t.client.send(
    new CreateMultipartUploadCommand({
      Bucket: t.bucket,
      Key: t.key,
      ContentType: 'application/octet-stream',
      ...(t.storageClass ? { StorageClass: t.storageClass as StorageClass } : {}),
    }),
    { abortSignal: t.signal },
  )
  const uploadId = created.UploadId
  if (!uploadId) throw new Error('the server started a multipart upload without an ID')
  const slices = sliceParts(t.parts, m.partSize)
  const etags: string[] = new Array<string>(slices.length)
  const md5s: Buffer[] = new Array<Buffer>(slices.length)
  try {
    await forEachLimit(
      slices.map((s, i) => ({ s, i })),
      m.partConcurrency,
      async ({ s, i }, signal) => {
        const md5 = md5Of(s.parts)
        md5s[i] = md5
        const res = await t.client.send(
          new UploadPartCommand({
            Bucket: t.bucket,
            Key: t.key,
            UploadId: uploadId,
            PartNumber: i + 1,
            Body: bodyOf(s.parts),
            ContentLength: s.size,
            ContentMD5: md5.toString('base64'),
          }),
          { abortSignal: signal },
        )
        if (!res.ETag) throw new Error(`the server returned no ETag for part ${i + 1}`)
        etags[i] = res.ETag
      },
      t.signal,
    )
    const done = await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.bucket,
        Key: t.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
      { abortSignal: t.signal },
    )
    const expected = `${md5Of(md5s).toString('hex')}-${slices.length}`
    if (unquote(done.ETag) === expected) return
    await verifySize(t)
  } catch (e) {
    // Best effort, and deliberately without the caller's signal: an aborted save must not
    // leave parts behind either. Servers also expire abandoned uploads (lifecycle rules).
    await t.client
      .send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId }))
      .catch(() => undefined)
    throw e
  }
}

async function verifySize(t: UploadTarget): Promise<void> {
  const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key }), {
    abortSignal: t.signal,
  })
  if (head.ContentLength !== t.size) {
    // A plain error: the caller words it with the file and location (s3Error), as transient.
    throw new Error(
      `the upload does not verify: the server holds ${head.ContentLength ?? 'an unknown number of'} bytes, ${t.size} were sent`,
    )
  }
}

function md5Of(parts: readonly Uint8Array[]): Buffer {
  const h = createHash('md5')
  for (const p of parts) h.update(p)
  return h.digest()
}

/**
 * The body as a stream over the caller's buffers: no copy, and the SDK signs it as an
 * unsigned payload instead of hashing it a second time (Content-MD5 covers integrity).
 */
function bodyOf(parts: readonly Uint8Array[]): Readable {
  return Readable.from(
    parts.filter((p) => p.length > 0),
    { objectMode: false },
  )
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase()
}

/** Cuts a list of buffers into consecutive slices of `size` bytes, without copying. */
export function sliceParts(
  parts: readonly Uint8Array[],
  size: number,
): { parts: Uint8Array[]; size: number }[] {
  const out: { parts: Uint8Array[]; size: number }[] = []
  let current: Uint8Array[] = []
  let filled = 0
  for (const p of parts) {
    let off = 0
    while (off < p.length) {
      const take = Math.min(size - filled, p.length - off)
      current.push(p.subarray(off, off + take))
      filled += take
      off += take
      if (filled === size) {
        out.push({ parts: current, size: filled })
        current = []
        filled = 0
      }
    }
  }
  if (filled > 0 || out.length === 0) out.push({ parts: current, size: filled })
  return out
}

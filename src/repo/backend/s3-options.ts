// The S3 settings' choices, apart from the client: listing them (CLI options, validation of
// environment variables) must not load the AWS SDK, which costs every command ~0.4 s.

export const BUCKET_LOOKUPS = ['auto', 'path', 'dns'] as const
/** How the bucket is addressed: `path` (`host/bucket/key`), `dns` (`bucket.host/key`), or by host. */
export type BucketLookup = (typeof BUCKET_LOOKUPS)[number]

export const CHECKSUM_CALCULATIONS = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const
export type ChecksumCalculation = (typeof CHECKSUM_CALCULATIONS)[number]

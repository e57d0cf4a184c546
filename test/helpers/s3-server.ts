import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { S3BackendOptions } from '../../src/repo/backend/index.js'
import { makeSelfSignedCert } from './self-signed-cert.js'
import { makeTempDir } from './tmp-dir.js'

/** s3rver's built-in account. */
const KEY_ID = 'S3RVER'
const SECRET = 'S3RVER'
const MAIN = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url))

/** An s3rver on loopback over HTTPS, for tests and benchmarks. */
export interface S3TestServer {
  readonly port: number
  /** `https://127.0.0.1:PORT` */
  readonly endpoint: string
  /** The self-signed certificate (PEM), also the CA that trusts it. */
  readonly caFile: string
  readonly ca: Buffer
  readonly keyFile: string
  /** Where s3rver keeps buckets (one directory each). */
  readonly dataDir: string
  /**
   * Backend options for in-process clients. Test-only: `WHEN_REQUIRED` checksums, because
   * s3rver stores the framing of streamed checksum trailers as data (the product keeps the
   * SDK's default; real S3 services accept both).
   */
  readonly clientOptions: S3BackendOptions
  /**
   * Environment for child processes (coffer, restic): credentials, the CA for Node
   * (AWS_CA_BUNDLE) and for Go (SSL_CERT_FILE; restic 0.14 has --cacert but no variable
   * for it), and the same checksum setting as `clientOptions`.
   */
  readonly env: Readonly<Record<string, string>>
  /** A location in a bucket of its own, not yet created: `s3:https://127.0.0.1:PORT/<bucket>`. */
  freshLocation(label: string, endpoint?: string): string
  stop(): Promise<void>
}

/**
 * Starts s3rver in a child process on a free loopback port, with a certificate made now by
 * openssl (valid for 127.0.0.1, localhost and `*.s3.localhost`) and data in a temporary
 * directory that `stop` removes.
 */
export async function startS3Server(label = 's3'): Promise<S3TestServer> {
  // In-process clients too: the SDK's Node-version notice is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const tmp = await makeTempDir(`s3rver-${label}`)
  const dataDir = join(tmp.path, 'data')
  const { certFile: caFile, keyFile } = await makeSelfSignedCert(tmp.path, [
    'IP:127.0.0.1',
    'DNS:localhost',
    'DNS:s3.localhost',
    'DNS:*.s3.localhost',
  ])
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--import',
      'tsx',
      MAIN,
      JSON.stringify({ directory: dataDir, keyFile, certFile: caFile }),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  let port: number
  try {
    port = await readPort(child)
  } catch (e) {
    child.kill('SIGKILL')
    await tmp.cleanup()
    throw e
  }
  const ca = await readFile(caFile)
  const endpoint = `https://127.0.0.1:${port}`
  return {
    port,
    endpoint,
    caFile,
    ca,
    keyFile,
    dataDir,
    clientOptions: {
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
      ca,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    },
    env: {
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_CA_BUNDLE: caFile,
      SSL_CERT_FILE: caFile,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    freshLocation: (name, at = endpoint) => `s3:${at}/${bucketName(name)}`,
    stop: async () => {
      await stopChild(child)
      await tmp.cleanup()
    },
  }
}

/** A unique, valid bucket name from a label: lower case, 3–63 characters. */
export function bucketName(label: string): string {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
  return `${safe || 'b'}-${randomBytes(6).toString('hex')}`
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const onExit = (code: number | null): void =>
      reject(new Error(`s3rver exited (${code}) before listening`))
    child.once('exit', onExit)
    child.once('error', reject)
    lines.once('line', (line) => {
      child.off('exit', onExit)
      const parsed = JSON.parse(line) as { port?: unknown }
      if (typeof parsed.port !== 'number') reject(new Error(`s3rver said: ${line}`))
      else resolve(parsed.port)
    })
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.stdin?.end()
    child.kill('SIGTERM')
  })
}

// Runs s3rver in a process of its own, started by s3-server.ts as
//   node --openssl-legacy-provider --import tsx s3rver-process.ts '<json options>'
// Why a process: s3rver encrypts ListObjectsV2 continuation tokens with DES, which
// OpenSSL 3 offers only through its legacy provider, a flag Node takes at start-up; and the
// server's work then does not share an event loop with the code under test.
// Prints `{"port":N}` once listening; exits when its parent closes stdin or sends SIGTERM.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

interface Options {
  readonly directory: string
  readonly keyFile: string
  readonly certFile: string
  readonly port?: number
}

interface S3rverServer {
  run(): Promise<{ port: number }>
  close(): Promise<void>
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverServer

const opts = JSON.parse(process.argv[2] ?? '{}') as Options
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor
const server = new S3rver({
  address: '127.0.0.1',
  port: opts.port ?? 0,
  silent: true,
  directory: opts.directory,
  key: readFileSync(opts.keyFile),
  cert: readFileSync(opts.certFile),
  // `<bucket>.s3.localhost` addresses a bucket virtual-host style (tests pin the name).
  serviceEndpoint: 'localhost',
})
const { port } = await server.run()
process.stdout.write(`${JSON.stringify({ port })}\n`)

let closing = false
const stop = (): void => {
  if (closing) return
  closing = true
  // Keep-alive connections would hold close() open; the parent is done with them.
  setTimeout(() => process.exit(0), 500).unref()
  void server.close().finally(() => process.exit(0))
}
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.on('SIGTERM', stop)

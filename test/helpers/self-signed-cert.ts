import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

/**
 * A self-signed certificate made now by openssl (P-256, valid two days) in `dir`: `cert.pem`
 * (also the CA that trusts it) and `key.pem`. `altNames` as openssl writes them:
 * `IP:127.0.0.1`, `DNS:localhost`, …
 */
export async function makeSelfSignedCert(
  dir: string,
  altNames: readonly string[] = ['IP:127.0.0.1'],
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    `subjectAltName=${altNames.join(',')}`,
  ])
  return { certFile, keyFile }
}

import { request } from 'node:https'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'
import { makeSelfSignedCert } from '../helpers/self-signed-cert.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** One HTTPS request trusting `ca` (the server's self-signed certificate). */
function httpsCall(url: string, ca: Buffer, method: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

/** `coffer serve --tls-cert/--tls-key`: HTTPS without a proxy, and a Secure session cookie. */
describe('serve over TLS', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let s: TestServer
  let ca: Buffer

  beforeAll(async () => {
    tmp = await makeTempDir('tls')
    const { certFile: cert, keyFile: key } = await makeSelfSignedCert(tmp.path)
    ca = await readFile(cert)
    s = await startTestServer('sqlite', 'tls', { tls: { cert, key } })
  })
  afterAll(async () => {
    await s?.stop()
    await tmp?.cleanup()
  })

  it('answers over HTTPS only, and marks the console session cookie Secure', async () => {
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect((await httpsCall(`${s.url}/healthz`, ca, 'GET')).status).toBe(200)
    const login = await httpsCall(`${s.url}/api/auth/login`, ca, 'POST', {
      user: 'admin',
      password: ADMIN_PASSWORD,
      cookie: true,
    })
    expect(login.status, login.body).toBe(200)
    const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? [])
    const session = cookies.find((c) => c.startsWith('coffer_session='))
    expect(session).toMatch(/; *Secure/i)
    expect(session).toMatch(/HttpOnly/i)
    // Plain HTTP on the same port gets no answer a browser would take.
    await expect(fetch(`${s.url.replace('https:', 'http:')}/healthz`)).rejects.toThrow()
  })
})

import { once } from 'node:events'
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'

/** One request a webhook receiver got. */
export interface ReceivedHook {
  /** The request's path and query. */
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/**
 * A webhook receiver on loopback: records every POST and answers with the next status of
 * `statuses` (then 200), so tests can make the first attempts fail.
 */
export async function startWebhookReceiver(statuses: number[] = []): Promise<{
  readonly url: string
  readonly received: ReceivedHook[]
  close(): Promise<void>
}> {
  const received: ReceivedHook[] = []
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (b: Buffer) => chunks.push(b))
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      res.statusCode = statuses.shift() ?? 200
      res.end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/hooks/coffer`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** One message an SMTP sink accepted. */
export interface ReceivedMail {
  readonly from: string
  readonly to: string[]
  readonly data: string
  /** The AUTH PLAIN credentials, decoded (user, password), when the client signed in. */
  readonly auth?: { readonly user: string; readonly password: string }
}

/**
 * A minimal SMTP server on loopback (RFC 5321: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT)
 * that keeps the messages it accepts.
 */
export async function startSmtpSink(): Promise<{
  readonly port: number
  readonly mails: ReceivedMail[]
  close(): Promise<void>
}> {
  const mails: ReceivedMail[] = []
  const server = createTcpServer((socket) => {
    let buffer = ''
    let inData = false
    let from = ''
    let to: string[] = []
    let data = ''
    let auth: ReceivedMail['auth']
    socket.write('220 sink ESMTP\r\n')
    socket.on('data', (b: Buffer) => {
      buffer += b.toString('utf8')
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n')
          if (end < 0) return
          data = buffer.slice(0, end)
          buffer = buffer.slice(end + 5)
          inData = false
          mails.push({ from, to, data, ...(auth ? { auth } : {}) })
          to = []
          socket.write('250 queued\r\n')
          continue
        }
        const nl = buffer.indexOf('\r\n')
        if (nl < 0) return
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 2)
        const verb = line.split(' ')[0]!.toUpperCase()
        if (verb === 'EHLO') socket.write('250-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n')
        else if (verb === 'AUTH') {
          const [, user = '', password = ''] = Buffer.from(line.split(' ')[2] ?? '', 'base64')
            .toString('utf8')
            .split('\0')
          auth = { user, password }
          socket.write('235 ok\r\n')
        } else if (verb === 'MAIL') {
          from = /<([^>]*)>/.exec(line)?.[1] ?? ''
          socket.write('250 ok\r\n')
        } else if (verb === 'RCPT') {
          to.push(/<([^>]*)>/.exec(line)?.[1] ?? '')
          socket.write('250 ok\r\n')
        } else if (verb === 'DATA') {
          inData = true
          socket.write('354 go on\r\n')
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n')
          return
        } else socket.write('250 ok\r\n')
      }
    })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    mails,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

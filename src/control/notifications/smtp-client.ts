import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { CofferError } from '../../errors.js'

/** How the connection to the SMTP server is secured. */
export const SMTP_SECURITY = ['none', 'starttls', 'tls'] as const
export type SmtpSecurity = (typeof SMTP_SECURITY)[number]

export interface SmtpServer {
  readonly host: string
  readonly port: number
  readonly security: SmtpSecurity
  readonly user?: string
  /** A secret: only ever sent in AUTH PLAIN, never logged. */
  readonly password?: string
  readonly from: string
  /** Accept a self-signed certificate (a test server). */
  readonly allowSelfSigned?: boolean
}

export interface MailMessage {
  readonly to: string
  readonly subject: string
  readonly text: string
}

const TIMEOUT_MS = 30_000

/** Reads SMTP replies (RFC 5321 §4.2: `250-…` continues, `250 …` ends a reply). */
class ReplyReader {
  private buffer = ''
  private waiting: ((line: string) => void) | undefined
  private failure: Error | undefined
  private readonly lines: string[] = []

  constructor(private socket: Socket | TLSSocket) {
    this.attach(socket)
  }

  attach(socket: Socket | TLSSocket): void {
    this.socket = socket
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      let i: number
      while ((i = this.buffer.indexOf('\r\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, i))
        this.buffer = this.buffer.slice(i + 2)
      }
      this.pump()
    })
    socket.on('error', (e: Error) => {
      this.failure = e
      this.pump()
    })
    socket.on('close', () => {
      this.failure ??= new Error('the SMTP server closed the connection')
      this.pump()
    })
  }

  private pump(): void {
    const w = this.waiting
    if (!w) return
    const line = this.lines.shift()
    if (line !== undefined) {
      this.waiting = undefined
      w(line)
    } else if (this.failure) {
      this.waiting = undefined
      w('')
    }
  }

  private nextLine(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = (line) => (line === '' && this.failure ? reject(this.failure) : resolve(line))
      this.pump()
    })
  }

  /** The next complete reply: its code and its text lines. */
  async reply(): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = []
    for (;;) {
      const line = await this.nextLine()
      lines.push(line.slice(4))
      if (line[3] !== '-') return { code: Number(line.slice(0, 3)), lines }
    }
  }
}

/**
 * Sends one plain-text message through an SMTP server (RFC 5321), with STARTTLS or implicit
 * TLS (RFC 8314) and AUTH PLAIN (RFC 4954) when configured. A deliberately small client:
 * one message per connection, no pipelining. Errors name the step, never the password.
 */
export async function sendMail(
  server: SmtpServer,
  message: MailMessage,
  signal?: AbortSignal,
): Promise<void> {
  let socket: Socket | TLSSocket = await open(server, signal)
  const timer = setTimeout(
    () => socket.destroy(new Error('the SMTP server did not answer in time')),
    TIMEOUT_MS,
  )
  const onAbort = (): void => {
    socket.destroy(new Error('sending was cancelled'))
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  const reader = new ReplyReader(socket)
  const step = async (
    what: string,
    command: string | undefined,
    expect: number,
  ): Promise<string[]> => {
    if (command !== undefined) socket.write(command + '\r\n')
    const r = await reader.reply()
    if (r.code !== expect)
      throw new CofferError(
        'backend',
        `The SMTP server refused ${what}: ${r.code} ${r.lines.join(' ')}`.slice(0, 300),
      )
    return r.lines
  }
  try {
    await step('the connection', undefined, 220)
    let ehlo = await step('EHLO', 'EHLO coffer', 250)
    if (server.security === 'starttls') {
      if (!ehlo.some((l) => /^STARTTLS\b/i.test(l)))
        throw new CofferError('backend', 'The SMTP server does not offer STARTTLS.')
      await step('STARTTLS', 'STARTTLS', 220)
      socket = await upgrade(socket, server)
      reader.attach(socket)
      ehlo = await step('EHLO', 'EHLO coffer', 250)
    }
    if (server.user) {
      const token = Buffer.from(`\0${server.user}\0${server.password ?? ''}`).toString('base64')
      await step('the sign-in (AUTH PLAIN)', `AUTH PLAIN ${token}`, 235)
    }
    await step('the sender', `MAIL FROM:<${address(server.from)}>`, 250)
    await step('the recipient', `RCPT TO:<${address(message.to)}>`, 250)
    await step('DATA', 'DATA', 354)
    await step('the message', formatMessage(server.from, message) + '\r\n.', 250)
    socket.write('QUIT\r\n')
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    socket.end()
  }
}

function address(a: string): string {
  if (/[\r\n<>]/.test(a))
    throw new CofferError('invalid_input', 'An e-mail address has forbidden characters.')
  return a
}

/** Headers and body, CRLF line ends, dot-stuffed (RFC 5321 §4.5.2). */
function formatMessage(from: string, m: MailMessage): string {
  const subject = m.subject.replace(/[\r\n]+/g, ' ')
  const headers = [
    `From: ${address(from)}`,
    `To: ${address(m.to)}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ]
  const body = m.text
    .replace(/\r?\n/g, '\r\n')
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? '.' + l : l))
    .join('\r\n')
  return `${headers.join('\r\n')}\r\n\r\n${body}`
}

function open(server: SmtpServer, signal?: AbortSignal): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    const s =
      server.security === 'tls'
        ? tlsConnect({
            host: server.host,
            port: server.port,
            servername: server.host,
            rejectUnauthorized: !server.allowSelfSigned,
            ...(signal ? { signal } : {}),
          })
        : netConnect({ host: server.host, port: server.port, ...(signal ? { signal } : {}) })
    s.once(server.security === 'tls' ? 'secureConnect' : 'connect', () => resolve(s))
    s.once('error', (e) =>
      reject(
        new CofferError('backend', `Cannot reach the SMTP server ${server.host}:${server.port}.`, {
          cause: e,
        }),
      ),
    )
  })
}

function upgrade(socket: Socket | TLSSocket, server: SmtpServer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.removeAllListeners('data')
    const s = tlsConnect({
      socket,
      servername: server.host,
      rejectUnauthorized: !server.allowSelfSigned,
    })
    s.once('secureConnect', () => resolve(s))
    s.once('error', (e) =>
      reject(new CofferError('backend', 'The STARTTLS handshake failed.', { cause: e })),
    )
  })
}

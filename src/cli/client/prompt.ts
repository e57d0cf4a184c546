import { createInterface } from 'node:readline/promises'
import { text } from 'node:stream/consumers'

/**
 * Asks a yes/no question on the terminal (stderr); only "y" or "yes" agree. Callers make sure
 * stdin is a terminal first: nothing is asked when it is not.
 */
export async function confirm(question: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal })
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

/** Asks for a line on the terminal. */
export async function ask(question: string, signal: AbortSignal): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  try {
    return (await rl.question(question, { signal })).trim()
  } finally {
    rl.close()
  }
}

/** Reads a password on the terminal without echoing it. */
export async function askHidden(question: string, signal: AbortSignal): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(question)
  stdin.setRawMode(true)
  stdin.resume()
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = ''
      const onAbort = (): void => {
        cleanup()
        reject(signal.reason instanceof Error ? signal.reason : new Error('interrupted'))
      }
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            cleanup()
            process.stderr.write('\n')
            resolve(value)
            return
          }
          if (ch === '\u0003') {
            cleanup()
            const e = new Error('interrupted')
            e.name = 'AbortError'
            reject(e)
            return
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
          else value += ch
        }
      }
      const cleanup = (): void => {
        stdin.off('data', onData)
        signal.removeEventListener('abort', onAbort)
      }
      stdin.on('data', onData)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
  }
}

/** All of stdin, without the final newline (`--password-stdin`). */
export async function readStdin(): Promise<string> {
  return (await text(process.stdin)).replace(/\r?\n$/, '')
}

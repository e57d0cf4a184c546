import { readFile } from 'node:fs/promises'
import { InvalidInputError } from '../../errors.js'

/**
 * Each password file's first read, for the command's later ones: a file may be readable once
 * only (`--password-file /dev/stdin`, a shell's `<(…)`), and the key's early derivation
 * (key-prefetch.ts) reads it before the command does.
 */
const fromFiles = new Map<string, Promise<string>>()

/** Reads a password from a file (first line, as restic does) or COFFER_PASSWORD. */
export async function readPassword(
  file: string | undefined,
  envName = 'COFFER_PASSWORD',
): Promise<string> {
  if (file) {
    let read = fromFiles.get(file)
    if (!read) {
      read = readFirstLine(file)
      fromFiles.set(file, read)
    }
    return read
  }
  const env = process.env[envName]
  if (env !== undefined) return env
  throw new InvalidInputError(
    'password',
    `No password given: use --password-file FILE or set ${envName}.`,
  )
}

async function readFirstLine(file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw new InvalidInputError('password-file', `Cannot read the password file ${file}.`, {
      cause: e,
    })
  }
  return text.split(/\r?\n/)[0] ?? ''
}

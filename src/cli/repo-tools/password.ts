import { readFile } from 'node:fs/promises'
import { InvalidInputError } from '../../errors.js'

/** Reads a password from a file (first line, as restic does) or COFFER_PASSWORD. */
export async function readPassword(
  file: string | undefined,
  envName = 'COFFER_PASSWORD',
): Promise<string> {
  if (file) {
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
  const env = process.env[envName]
  if (env !== undefined) return env
  throw new InvalidInputError(
    'password',
    `No password given: use --password-file FILE or set ${envName}.`,
  )
}

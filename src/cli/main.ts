import { CommanderError } from 'commander'
import { CofferError, EXIT_CODE, messageOf } from '../errors.js'
import { buildProgram } from './program.js'

/**
 * Runs one `coffer` invocation and returns its exit code. The one place where errors become
 * messages: a CofferError prints its message (a finished sentence) and maps to its exit
 * code; anything else is a bug, reported with the working directory masked.
 */
export async function main(argv: readonly string[]): Promise<number> {
  // `coffer … | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw e
    })
  }
  const program = buildProgram()
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (usage errors, --help, --version).
      return e.exitCode === 0 ? 0 : 2
    }
    if (e instanceof CofferError) {
      process.stderr.write(`coffer: ${e.message}\n`)
      return EXIT_CODE[e.code]
    }
    if (e instanceof Error && e.name === 'AbortError') {
      process.stderr.write('coffer: interrupted\n')
      return 130
    }
    const report = (e instanceof Error ? (e.stack ?? e.message) : messageOf(e)).replaceAll(
      process.cwd(),
      '<cwd>',
    )
    process.stderr.write(`coffer: internal error (a bug; please report it):\n${report}\n`)
    return EXIT_CODE.internal
  }
}

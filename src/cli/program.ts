import { Command } from 'commander'
import { COFFER_VERSION } from '../lib/index.js'
import { registeredCommands, renderCommandList } from './command-list.js'
import { COMMANDS } from './commands/index.js'
import { prefetchRepoKey } from './repo-tools/key-prefetch.js'

const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   failure (storage or other)
  2   usage error or invalid input
  3   not found
  4   refused (permission or state; the server's message is printed)
  5   the capture or restore failed (client: the activity failed or was cancelled)
  6   not signed in, or the session expired
  7   cannot connect to the server
  10  repository does not exist
  11  repository is locked by another process
  12  wrong password or no key found
  13  repository already exists
  14  repository data is damaged
  15  not enough disk space
  70  internal error (a bug)
  130 interrupted
`

/** The `coffer` command tree. Each command's code is loaded only when it runs. */
export function buildProgram(): Command {
  const program = new Command('coffer')
    .description('Backups of web-application environments: databases and mounts, restic format.')
    .version(COFFER_VERSION, '-V, --version', 'print the version')
    .helpCommand('help [command]', 'show help for a command')
    .showHelpAfterError('(run "coffer help" for the list of commands)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    })
    .addHelpText('after', EXIT_CODES_HELP)
  program
    .command('list')
    .description('list all commands, grouped')
    .action(() => {
      const groups = new Map(COMMANDS.flatMap((s) => (s.group ? [[s.name, s.group] as const] : [])))
      process.stdout.write(
        `Coffer ${COFFER_VERSION}\n\nUsage: coffer COMMAND [options]; coffer help COMMAND shows its options.\n\n` +
          renderCommandList(registeredCommands(program, groups)),
      )
    })
  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name).description(spec.summary).exitOverride()
    for (const alias of spec.aliases ?? []) cmd.alias(alias)
    spec.configure(cmd)
    cmd.action(async (...args: unknown[]) => {
      if (spec.opensRepository) await prefetchRepoKey(cmd)
      const run = await spec.load()
      await run(cmd, args)
    })
  }
  return program
}

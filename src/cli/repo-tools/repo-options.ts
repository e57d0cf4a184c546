import type { Command } from 'commander'

// Apart from repo-context.ts, which loads src/repo: the command table declares every
// command's flags at start-up, and a client command should not pay for loading the
// repository code it never runs.

/** Options every repo:* command takes. */
export function addRepoOptions(cmd: Command): Command {
  return cmd
    .option('-r, --repo <dir>', 'repository location (default: $COFFER_REPOSITORY)')
    .option(
      '--password-file <file>',
      'read the repository password from a file (default: $COFFER_PASSWORD)',
    )
}

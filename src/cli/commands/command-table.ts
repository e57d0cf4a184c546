import type { Command } from 'commander'

/** Runs a parsed command: `cmd` gives its options, `args` the positional arguments. */
export type CommandRunner = (cmd: Command, args: unknown[]) => Promise<void>

export interface CommandSpec {
  readonly name: string
  readonly aliases?: readonly string[]
  readonly summary: string
  readonly configure: (cmd: Command) => void
  readonly load: () => Promise<CommandRunner>
}

export const COMMANDS: readonly CommandSpec[] = []

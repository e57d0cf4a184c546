/**
 * @module The command table: names, one-line summaries, flags, and a lazy loader for each
 * command's code, so that `coffer help` and a single command start fast.
 */
export { COMMANDS } from './command-table.js'
export type { CommandSpec, CommandRunner } from './command-table.js'

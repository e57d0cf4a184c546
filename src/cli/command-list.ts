import type { Command } from 'commander'

/** One command as `coffer list` shows it. */
export interface ListedCommand {
  readonly name: string
  readonly aliases: readonly string[]
  readonly summary: string
  /** Its heading; by default the part of the name before the first ':'. */
  readonly group?: string
}

/**
 * Groups that do not talk to a Coffer server: listed after the client's groups, each with a
 * note, so that someone looking for `backup` does not start with `repo:backup`.
 */
const OPERATOR_GROUPS: ReadonlyMap<string, string> = new Map([
  ['repo', 'operator tools: a repository on this machine, no server'],
  ['server', 'run Coffer'],
])

/** The heading of the commands without a namespace (`help`, `list`, …). */
const GENERAL = 'Available commands:'

/** The group a command is listed under; '' for the general commands. */
export function groupOf(c: ListedCommand): string {
  if (c.group !== undefined) return c.group
  const colon = c.name.indexOf(':')
  return colon > 0 ? c.name.slice(0, colon) : ''
}

/**
 * The commands registered on `program`, commander's own `help` included, in the order they
 * were registered; `groups` gives the heading of those not grouped by their namespace.
 */
export function registeredCommands(
  program: Command,
  groups: ReadonlyMap<string, string>,
): ListedCommand[] {
  return program
    .createHelp()
    .visibleCommands(program)
    .map((c) => ({
      name: c.name(),
      aliases: c.aliases(),
      summary: c.description(),
      group: groups.get(c.name()),
    }))
}

/** Where a group comes in the list: general first, the client's by name, operator tools last. */
function groupOrder(a: string, b: string): number {
  const rank = (g: string): number => (g === '' ? 0 : OPERATOR_GROUPS.has(g) ? 2 : 1)
  const byRank = rank(a) - rank(b)
  if (byRank !== 0) return byRank
  if (rank(a) === 2) {
    const order = [...OPERATOR_GROUPS.keys()]
    return order.indexOf(a) - order.indexOf(b)
  }
  return a.localeCompare(b)
}

/**
 * The text of `coffer list`, grouped by namespace as the PaaS CLI does: a heading per group,
 * then `  name (aliases)  summary` per command, sorted by name, summaries aligned.
 */
export function renderCommandList(commands: readonly ListedCommand[]): string {
  const term = (c: ListedCommand): string =>
    c.aliases.length > 0 ? `${c.name} (${c.aliases.join(', ')})` : c.name
  const width = Math.max(...commands.map((c) => term(c).length)) + 2
  const byGroup = new Map<string, ListedCommand[]>()
  for (const c of commands) byGroup.set(groupOf(c), [...(byGroup.get(groupOf(c)) ?? []), c])
  const lines: string[] = []
  for (const group of [...byGroup.keys()].sort(groupOrder)) {
    const note = OPERATOR_GROUPS.get(group)
    lines.push(group === '' ? GENERAL : note ? `${group} (${note})` : group)
    const members = [...(byGroup.get(group) ?? [])].sort((a, b) => a.name.localeCompare(b.name))
    for (const c of members) lines.push(`  ${term(c).padEnd(width)}${c.summary}`.trimEnd())
  }
  return lines.join('\n') + '\n'
}

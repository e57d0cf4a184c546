import type { Command } from 'commander'
import { InvalidInputError } from '../../errors.js'

/** Every command name and alias with its long options, from the parsed program. */
function commandWords(program: Command): { names: string[]; options: Map<string, string[]> } {
  const names: string[] = []
  const options = new Map<string, string[]>()
  for (const c of program.commands) {
    const longs = c.options.map((o) => o.long).filter((l): l is string => Boolean(l))
    for (const n of [c.name(), ...c.aliases()]) {
      names.push(n)
      options.set(n, [...longs, '--help'])
    }
  }
  return { names, options }
}

function bash(program: Command): string {
  const { names, options } = commandWords(program)
  const cases = [...options]
    .map(([n, o]) => `    ${JSON.stringify(n)}) opts=${JSON.stringify(o.join(' '))} ;;`)
    .join('\n')
  // COMP_WORDBREAKS contains ':', so complete against the whole current word (bash-completion's
  // __ltrim_colon_completions does the same).
  return `# coffer completion for bash: eval "$(coffer completion bash)"
_coffer() {
  local cur cmd opts
  cur="\${COMP_LINE:0:$COMP_POINT}"
  cur="\${cur##* }"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -le 1 ] || { [ "$COMP_CWORD" -le 3 ] && [ "\${COMP_WORDS[2]}" = ":" ]; }; then
    COMPREPLY=( $(compgen -W ${JSON.stringify(names.join(' '))} -- "$cur") )
  else
    case "$cmd" in
${cases}
      *) opts="--help" ;;
    esac
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  fi
  if [[ "$cur" == *:* ]]; then
    local prefix="\${cur%"\${cur##*:}"}"
    local i
    for i in "\${!COMPREPLY[@]}"; do COMPREPLY[$i]="\${COMPREPLY[$i]#"$prefix"}"; done
  fi
}
complete -F _coffer coffer
`
}

function zsh(program: Command): string {
  const { names, options } = commandWords(program)
  const escaped = (n: string): string => n.replaceAll(':', '\\:')
  const cmds = program.commands
    .flatMap((c) =>
      [c.name(), ...c.aliases()].map(
        (n) => `    ${JSON.stringify(`${escaped(n)}:${c.description().replaceAll('"', "'")}`)}`,
      ),
    )
    .join('\n')
  const cases = names
    .map(
      (n) =>
        `    ${JSON.stringify(n)}) _values option ${(options.get(n) ?? []).map((o) => JSON.stringify(o)).join(' ')} ;;`,
    )
    .join('\n')
  return `#compdef coffer
# coffer completion for zsh: eval "$(coffer completion zsh)" (after compinit)
_coffer() {
  local -a commands
  commands=(
${cmds}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'coffer command' commands
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
}
compdef _coffer coffer
`
}

export async function run(cmd: Command, args: unknown[]): Promise<void> {
  const shell = String(args[0])
  const program = cmd.parent
  if (!program) return
  if (shell === 'bash') process.stdout.write(bash(program))
  else if (shell === 'zsh') process.stdout.write(zsh(program))
  else throw new InvalidInputError('shell', `coffer completion knows bash and zsh, not "${shell}".`)
}

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { renderCommandList } from '../../src/cli/command-list.js'
import { buildProgram } from '../../src/cli/program.js'
import { COFFER_VERSION } from '../../src/lib/index.js'
import { runCoffer } from '../helpers/run-coffer.js'

const exec = promisify(execFile)

describe('coffer help and version', () => {
  it('prints the version of package.json', async () => {
    const r = await runCoffer(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(COFFER_VERSION)
  })

  it('lists commands and the exit codes', async () => {
    const r = await runCoffer(['help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: coffer')
    expect(r.stdout).toContain('Exit codes:')
  })

  it('rejects an unknown command with a usage error', async () => {
    const r = await runCoffer(['no-such-command'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown command 'no-such-command'")
  })

  it('runs through bin/coffer', async () => {
    const { stdout } = await exec('node', ['bin/coffer', '--version'])
    expect(stdout.trim()).toBe(COFFER_VERSION)
  })
})

/** `coffer list` read back: each heading with the commands under it, as name, aliases, summary. */
function parseList(stdout: string): Map<string, { name: string; aliases: string[]; at: number }[]> {
  const groups = new Map<string, { name: string; aliases: string[]; at: number }[]>()
  let heading: string | undefined
  for (const line of stdout.split('\n').slice(4, -1)) {
    const entry = /^ {2}(\S+)(?: \(([^)]+)\))? +(\S.*)$/.exec(line)
    if (!entry) {
      heading = line
      groups.set(line, [])
      continue
    }
    if (heading === undefined) throw new Error(`an entry before any heading: ${line}`)
    const aliases = entry[2]?.split(', ') ?? []
    groups.get(heading)?.push({ name: entry[1]!, aliases, at: line.indexOf(entry[3]!) })
  }
  return groups
}

describe('coffer list', () => {
  it('shows every command once, under its group, with its aliases', async () => {
    const r = await runCoffer(['list'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n').slice(0, 4)).toEqual([
      `Coffer ${COFFER_VERSION}`,
      '',
      'Usage: coffer COMMAND [options]; coffer help COMMAND shows its options.',
      '',
    ])
    const groups = parseList(r.stdout)
    expect([...groups.keys()]).toEqual([
      'Available commands:',
      'activity',
      'auth',
      'environment',
      'project',
      'schedule',
      'snapshot',
      'token',
      'user',
      'repo (operator tools: a repository on this machine, no server)',
      'server (run Coffer)',
    ])
    const names = (g: string): string[] => (groups.get(g) ?? []).map((c) => c.name)
    expect(names('Available commands:')).toEqual(['completion', 'help', 'list'])
    expect(names('server (run Coffer)')).toEqual(['demo:remove', 'demo:start', 'serve', 'worker'])
    expect(groups.get('snapshot')).toEqual([
      { name: 'snapshot:create', aliases: ['backup', 'backup:create'], at: 51 },
      { name: 'snapshot:delete', aliases: ['backup:delete'], at: 51 },
      { name: 'snapshot:get', aliases: ['backup:get'], at: 51 },
      { name: 'snapshot:list', aliases: ['snapshots', 'backups', 'backup:list'], at: 51 },
      { name: 'snapshot:restore', aliases: ['backup:restore'], at: 51 },
    ])
    // Namespaced commands sit under their namespace (serve's group aside).
    for (const [heading, entries] of groups)
      for (const e of entries)
        if (e.name.includes(':') && !heading.startsWith('server'))
          expect(heading.split(' ')[0]).toBe(e.name.split(':')[0])

    // Against what is registered: each command exactly once, with all its aliases.
    const program = buildProgram()
    const registered = [...program.commands, program.createHelp().visibleCommands(program).at(-1)!]
    expect(registered.at(-1)?.name()).toBe('help')
    const listed = [...groups.values()].flat()
    expect(listed.map((e) => e.name).sort()).toEqual(registered.map((c) => c.name()).sort())
    for (const c of registered)
      expect(listed.find((e) => e.name === c.name())?.aliases).toEqual(c.aliases())
    expect(new Set(listed.map((e) => e.at))).toEqual(new Set([51]))
  })

  it('lists a new namespace under a heading of its own', () => {
    const text = renderCommandList([
      { name: 'list', aliases: [], summary: 'list all commands' },
      { name: 'mount:list', aliases: ['mounts'], summary: 'list the mounts' },
      { name: 'repo:check', aliases: [], summary: 'check it' },
      { name: 'serve', aliases: [], summary: 'run it', group: 'server' },
      { name: 'activity:get', aliases: [], summary: 'show one' },
    ])
    expect(text.split('\n')).toEqual([
      'Available commands:',
      '  list                 list all commands',
      'activity',
      '  activity:get         show one',
      'mount',
      '  mount:list (mounts)  list the mounts',
      'repo (operator tools: a repository on this machine, no server)',
      '  repo:check           check it',
      'server (run Coffer)',
      '  serve                run it',
      '',
    ])
  })
})

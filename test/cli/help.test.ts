import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
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

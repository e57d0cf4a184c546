import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { processAlive } from '../../src/lib/index.js'
import type { LockId } from '../../src/repo/id.js'
import { goTimeNow } from '../../src/repo/index.js'
import { isStale, type LockInfo } from '../../src/repo/lock.js'

/** The state letter of /proc/<pid>/stat. */
async function stateOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1')
  return stat.charAt(stat.lastIndexOf(')') + 2)
}

/**
 * A zombie that nobody reaps for a while: `sh` starts a short `sleep` in the background and
 * then becomes a long `sleep` that never waits for it (as PID 1 of some VMs reaps an
 * orphan only a second or more after it died).
 */
async function withZombie(body: (zombie: number, parent: number) => Promise<void>): Promise<void> {
  const sh = spawn('sh', ['-c', 'sleep 0.01 & echo $!; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  try {
    const [line] = (await once(sh.stdout, 'data')) as [Buffer]
    const zombie = Number(line.toString().trim())
    for (let i = 0; (await stateOf(zombie)) !== 'Z'; i++) {
      if (i > 200) throw new Error(`process ${zombie} never became a zombie`)
      await new Promise((r) => setTimeout(r, 10))
    }
    await body(zombie, sh.pid!)
  } finally {
    sh.kill('SIGKILL')
  }
}

describe('processAlive', () => {
  it('finds this process and a running child', async () => {
    expect(processAlive(process.pid)).toBe(true)
    await withZombie(async (_, parent) => expect(processAlive(parent)).toBe(true))
  })

  it('counts a zombie as gone, though kill(pid, 0) still finds it', async () => {
    await withZombie(async (zombie) => {
      expect(() => process.kill(zombie, 0)).not.toThrow()
      expect(processAlive(zombie)).toBe(false)
    })
  })

  it('counts a process that ended, and nonsense PIDs, as gone', async () => {
    const c = spawn('true')
    await once(c, 'exit')
    expect(processAlive(c.pid!)).toBe(false)
    for (const pid of [0, -1, 2 ** 40, Number.NaN]) expect(processAlive(pid)).toBe(false)
  })

  it('lets a lock held by a zombie of this host count as stale', async () => {
    await withZombie(async (zombie, parent) => {
      const lock = (pid: number): LockInfo => ({
        id: 'a'.repeat(64) as LockId,
        time: goTimeNow(),
        exclusive: true,
        hostname: hostname(),
        username: 'root',
        pid,
      })
      expect(isStale(lock(zombie), new Date())).toBe(true)
      expect(isStale(lock(parent), new Date())).toBe(false)
    })
  })
})

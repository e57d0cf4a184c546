import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import type { Logger } from '../../lib/index.js'

/** How to start this CLI again: the Node binary and the arguments before the command. */
export interface CliLauncher {
  readonly execPath: string
  readonly args: readonly string[]
}

/** The launcher of the running CLI: same Node, same flags (`--import tsx` from source). */
export function currentCli(): CliLauncher {
  return { execPath: process.execPath, args: [...process.execArgv, process.argv[1]!] }
}

export interface WorkerProcessOptions {
  readonly cli: CliLauncher
  /** The `coffer worker` arguments (store, data dir, labels, concurrency…). */
  readonly args: readonly string[]
  /** Added to the nice value of the worker (0: same priority as the server). */
  readonly niceness: number
  readonly log: Logger
  /** Added to the worker's environment (which is otherwise this process's). */
  readonly env?: NodeJS.ProcessEnv
  /** How long to wait for the worker to say it is ready (ms). */
  readonly readyTimeoutMs?: number
}

/** What a worker started by `coffer serve` and its parent say to each other over IPC. */
export type WorkerMessage = { readonly type: 'ready' } | { readonly type: 'wake' }

const NICE = '/usr/bin/nice'
/** Restarts of a crashed worker wait this long, doubling up to the maximum. */
const RESTART_MS = 1_000
const RESTART_MAX_MS = 30_000
const STABLE_MS = 60_000

/**
 * The worker of `coffer serve`, run as a child `coffer worker` process: activities (chunking,
 * hashing, compression, the database streams) then never hold up the thread that answers API
 * requests, and run at a lower CPU priority, so the console stays responsive during a backup.
 * A worker that dies is restarted (its activities are failed as interrupted by the new one);
 * a worker whose server dies exits at once, as it would have inside the server.
 */
export class WorkerProcess {
  private child: ChildProcess | undefined
  private stopping = false
  private restartMs = RESTART_MS
  private restartTimer: NodeJS.Timeout | undefined
  private readyAt = 0

  constructor(private readonly opts: WorkerProcessOptions) {}

  /** Starts the worker and waits until it has recovered what a dead process left and polls. */
  async start(): Promise<void> {
    await this.spawnReady()
  }

  /** Tells the worker that an activity was queued (it also polls on its own). */
  wake(): void {
    const c = this.child
    if (c?.connected) c.send({ type: 'wake' } satisfies WorkerMessage, () => undefined)
  }

  /** The worker's process ID (undefined while it is being restarted). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /**
   * Graceful stop: the worker gets SIGTERM and `graceMs` to finish its activities (then it
   * interrupts them itself); after that and a margin, SIGKILL.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    clearTimeout(this.restartTimer)
    const c = this.child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = once(c, 'exit')
    c.kill('SIGTERM')
    const kill = setTimeout(() => c.kill('SIGKILL'), graceMs + 10_000)
    try {
      await exited
    } finally {
      clearTimeout(kill)
    }
  }

  private async spawnReady(): Promise<void> {
    const { cli, args, niceness } = this.opts
    const command = [cli.execPath, ...cli.args, 'worker', ...args]
    // nice(1) runs the worker with all its threads (the crypto pool's too) at the lower priority.
    const viaNice = niceness > 0 && existsSync(NICE)
    const [file, ...argv] = viaNice ? [NICE, '-n', String(niceness), ...command] : command
    // The server's first-start admin password is of no use to the worker.
    const env = { ...process.env, ...this.opts.env }
    delete env.COFFER_ADMIN_PASSWORD
    const child = spawn(file!, argv, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child = child
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('The worker process did not start in time.')),
        this.opts.readyTimeoutMs ?? 60_000,
      )
      child.on('message', (m: WorkerMessage) => {
        if (m.type !== 'ready') return
        clearTimeout(timer)
        resolve()
      })
      child.once('exit', (code, sig) => {
        clearTimeout(timer)
        reject(new Error(`The worker process exited before it was ready (${sig ?? code}).`))
      })
      child.once('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
    })
    try {
      await ready
    } catch (e) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      this.child = undefined
      throw e
    }
    this.readyAt = Date.now()
    this.opts.log.info(
      { workerPid: child.pid, niceness: viaNice ? niceness : 0 },
      'worker process ready',
    )
    child.once('exit', (code, sig) => this.onExit(child, code, sig))
  }

  private onExit(child: ChildProcess, code: number | null, sig: NodeJS.Signals | null): void {
    if (this.stopping || this.child !== child) return
    this.child = undefined
    // A worker that ran a good while before it died starts the backoff over.
    if (Date.now() - this.readyAt > STABLE_MS) this.restartMs = RESTART_MS
    this.opts.log.error(
      { workerPid: child.pid, code, signal: sig, restartInMs: this.restartMs },
      'worker process exited; restarting it',
    )
    this.scheduleRestart()
  }

  private scheduleRestart(): void {
    const delay = this.restartMs
    this.restartMs = Math.min(this.restartMs * 2, RESTART_MAX_MS)
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return
      this.spawnReady().catch((e: unknown) => {
        this.opts.log.error({ err: e }, 'worker process could not be restarted')
        if (!this.stopping) this.scheduleRestart()
      })
    }, delay)
    this.restartTimer.unref()
  }
}

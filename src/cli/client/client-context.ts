import type { Command } from 'commander'
import { interruptSignal } from '../signal.js'
import { ApiClient } from './api-client.js'
import { resolveConnection } from './auth-store.js'
import { ClientExitError } from './client-errors.js'
import { resolveEnvironment, resolveTarget, type Target } from './target.js'

/** What every client command gets: the process, read once here (flags, env, terminals). */
export interface ClientContext {
  readonly env: NodeJS.ProcessEnv
  readonly cwd: string
  readonly signal: AbortSignal
  /** stdout: data. */
  readonly out: (text: string) => void
  /** stderr: narrative, progress, warnings. */
  readonly err: (text: string) => void
  /** stdin is a terminal: questions may be asked. */
  readonly canPrompt: boolean
  /** stderr is a terminal: progress may be redrawn. */
  readonly interactive: boolean
  readonly quiet: boolean
  readonly verbose: boolean
  readonly now: () => number
}

/** The options every client command has (see `clientOptions`). */
export interface CommonFlags {
  readonly project?: string
  readonly environment?: string
  readonly quiet?: boolean
  readonly verbose?: boolean
  readonly color?: boolean
  readonly yes?: boolean
}

const line = (write: (s: string) => void) => (text: string) =>
  write(text.endsWith('\n') || text === '' ? text : `${text}\n`)

export function clientContext(flags: CommonFlags): ClientContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    signal: interruptSignal(),
    out: line((s) => process.stdout.write(s)),
    err: line((s) => process.stderr.write(s)),
    canPrompt: Boolean(process.stdin.isTTY),
    interactive: Boolean(process.stderr.isTTY) && flags.color !== false,
    quiet: flags.quiet === true,
    verbose: flags.verbose === true,
    now: () => Date.now(),
  }
}

/** The API client for the stored sign-in or COFFER_URL/COFFER_TOKEN. */
export async function connect(ctx: ClientContext): Promise<ApiClient> {
  const c = await resolveConnection(ctx.env)
  return new ApiClient(c.url, c.token, ctx.verbose ? ctx.err : undefined)
}

export function target(flags: CommonFlags, ctx: ClientContext): Promise<Target> {
  return resolveTarget(flags, ctx.cwd)
}

export function envTarget(
  flags: CommonFlags,
  ctx: ClientContext,
): Promise<{ project: string; environment: string }> {
  return resolveEnvironment(flags, ctx.cwd)
}

/** `/api/projects/{p}/environments/{e}` with each part escaped. */
export function envPath(t: { project: string; environment: string }, rest = ''): string {
  return `/api/projects/${encodeURIComponent(t.project)}/environments/${encodeURIComponent(t.environment)}${rest}`
}

export function projectPath(project: string, rest = ''): string {
  return `/api/projects/${encodeURIComponent(project)}${rest}`
}

/**
 * Wraps a client command: builds its context from the parsed flags and turns the client's
 * own failures (cannot connect, activity failed) into their message and exit code; the
 * server's refusals (CofferError) go on to `main`, which prints them the same way.
 */
export function clientCommand(
  run: (cmd: Command, args: unknown[], ctx: ClientContext) => Promise<void>,
): (cmd: Command, args: unknown[]) => Promise<void> {
  return async (cmd, args) => {
    const ctx = clientContext(cmd.opts<CommonFlags>())
    try {
      await run(cmd, args, ctx)
    } catch (e) {
      if (!(e instanceof ClientExitError)) throw e
      process.stderr.write(`coffer: ${e.message}\n`)
      process.exitCode = e.exitCode
    }
  }
}

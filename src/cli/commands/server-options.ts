import { InvalidInputError } from '../../errors.js'
import { TEST_PASSWORD_COST } from '../../control/index.js'
import { TEST_KDF } from '../../repo/index.js'
import type { RuntimeOptions } from './server-runtime.js'

/** `HOST:PORT` (IPv6 in brackets) as given to --listen. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535)
    throw new InvalidInputError(
      'listen',
      `--listen wants HOST:PORT (e.g. 127.0.0.1:8080), not "${text}".`,
    )
  return { host: m[1] ?? m[2]!, port }
}

/**
 * Knobs for the test suite and benchmarks, from the environment (the only place the CLI
 * reads it): cheap key derivation, fast polling, a short staleness. Never for production.
 */
export function runtimeKnobs(env: NodeJS.ProcessEnv): Partial<RuntimeOptions> {
  const knobs: {
    repoKdf?: RuntimeOptions['repoKdf']
    passwordCost?: RuntimeOptions['passwordCost']
    pollMs?: number
    heartbeatMs?: number
    staleWorkerMs?: number
  } = {}
  if (env.COFFER_TEST_FAST_KDF === '1') {
    knobs.repoKdf = TEST_KDF
    knobs.passwordCost = TEST_PASSWORD_COST
  }
  if (env.COFFER_TEST_POLL_MS) knobs.pollMs = Number(env.COFFER_TEST_POLL_MS)
  if (env.COFFER_TEST_HEARTBEAT_MS) knobs.heartbeatMs = Number(env.COFFER_TEST_HEARTBEAT_MS)
  if (env.COFFER_TEST_STALE_MS) knobs.staleWorkerMs = Number(env.COFFER_TEST_STALE_MS)
  return knobs
}

/**
 * The metadata store's URL: --store, else COFFER_STORE. The variable keeps a password in
 * the URL out of the process list (`ps` shows a command line to every user, the
 * environment only to its owner); serve hands it to its child worker that way.
 */
export function storeOf(flag: string | undefined): string | undefined {
  return flag ?? (process.env.COFFER_STORE || undefined)
}

/** Waits for SIGINT/SIGTERM, then stops gracefully. */
export async function stopOnSignal(
  signal: AbortSignal,
  stop: (graceMs?: number) => Promise<void>,
): Promise<void> {
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    signal.addEventListener('abort', () => resolve(), { once: true })
  })
  await stop(30_000)
}

/**
 * An AbortSignal that fires on SIGINT/SIGTERM, so that a command stops cleanly (locks
 * released, temporary files removed) when interrupted. A second signal exits at once.
 */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController()
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) process.exit(130)
    const e = new Error(`interrupted by ${sig}`)
    e.name = 'AbortError'
    ac.abort(e)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return ac.signal
}

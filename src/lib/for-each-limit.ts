/**
 * Runs `fn` over the items of an (async) iterable with at most `limit` calls in flight.
 * The first failure aborts the others through the signal each call receives, and is the
 * error thrown; later failures are dropped. Items are pulled lazily, so a producer that is
 * itself streaming (a directory walk, a table's parts) is never read ahead by more than
 * `limit` items.
 *
 * @example
 * await forEachLimit(files, 4, (file, signal) => saveFile(file, { signal }), ctx.signal)
 */
export async function forEachLimit<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${limit}`)
  const inner = new AbortController()
  const combined = signal ? AbortSignal.any([signal, inner.signal]) : inner.signal
  const iterator =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]()
  let failure: { error: unknown } | undefined
  let done = false

  // One puller at a time: async iterators must not be called concurrently.
  let pulling: Promise<unknown> = Promise.resolve()
  const next = (): Promise<IteratorResult<T>> => {
    const p = pulling.then(() => iterator.next())
    pulling = p.catch(() => undefined)
    return p
  }

  const lane = async (): Promise<void> => {
    while (!done && !failure) {
      if (combined.aborted) throw combined.reason
      const r = await next()
      if (r.done) {
        done = true
        return
      }
      await fn(r.value, combined)
    }
  }

  const lanes = Array.from({ length: limit }, () =>
    lane().catch((error: unknown) => {
      if (!failure) {
        failure = { error }
        inner.abort(error)
      }
    }),
  )
  await Promise.all(lanes)
  if (failure) {
    await iterator.return?.()
    throw failure.error
  }
}

/**
 * Waits for every started task, then throws: the caller's own failure first (it happened
 * first), else the first task's. Used where work fans out and must not be left running
 * when its parent step fails (a directory sealed or its metadata set while files are still
 * being written).
 */
export async function settleAll(
  pending: readonly Promise<unknown>[],
  failure?: { error: unknown },
): Promise<void> {
  const results = await Promise.allSettled(pending)
  if (failure) throw failure.error
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

/**
 * Marks a promise as observed so that its failure, if it fails before `settleAll` gets to
 * it, is not reported as an unhandled rejection (which would end the process). The failure
 * still surfaces from `settleAll`.
 */
export function observed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined)
  return p
}

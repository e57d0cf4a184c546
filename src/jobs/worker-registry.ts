import { hostname } from 'node:os'
import type { Store } from '../store/index.js'
import type { WorkerIdentity } from './ports.js'

/**
 * A process that runs activities registers itself (host, PID, labels) and keeps its row
 * fresh, so that after a crash others can tell its activities were interrupted.
 */
export async function registerWorker(
  store: Store,
  worker: WorkerIdentity,
  now: () => Date,
): Promise<void> {
  const at = now().toISOString()
  await store.db
    .insertInto('workers')
    .values({
      id: worker.id,
      hostname: hostname(),
      pid: process.pid,
      labels: JSON.stringify(worker.labels),
      started_at: at,
      heartbeat_at: at,
    })
    .execute()
}

export async function workerHeartbeat(
  store: Store,
  workerId: string,
  now: () => Date,
): Promise<void> {
  await store.db
    .updateTable('workers')
    .set({ heartbeat_at: now().toISOString() })
    .where('id', '=', workerId)
    .execute()
}

/** Removes the worker's row on a graceful stop, and rows of workers long gone. */
export async function unregisterWorker(store: Store, workerId: string): Promise<void> {
  await store.db.deleteFrom('workers').where('id', '=', workerId).execute()
}

export async function forgetStaleWorkers(
  store: Store,
  now: () => Date,
  olderThanMs: number,
): Promise<void> {
  const cutoff = new Date(now().getTime() - olderThanMs).toISOString()
  await store.db.deleteFrom('workers').where('heartbeat_at', '<', cutoff).execute()
}

/**
 * @module Runs activities: in this process by default (the pending rows of the store are the
 * queue), or through pg-boss with a PostgreSQL store so that workers on many hosts share the
 * queues, each serving the environments pinned to its labels. What an activity does is the
 * control plane's (the `ActivityExecutor` port); this layer only decides when and where.
 */
export { bossSchema, PgBossJobs, queueName } from './pg-boss-jobs.js'
export type { PgBossJobsOptions } from './pg-boss-jobs.js'
export { kyselyBossDb } from './kysely-boss-db.js'
export type { BossDb } from './kysely-boss-db.js'
export { InProcessQueue, PollingRunner } from './polling-runner.js'
export type { RunnerOptions } from './polling-runner.js'
export type { ActivityExecutor, WorkerIdentity } from './ports.js'
export { forgetStaleWorkers, registerWorker, unregisterWorker } from './worker-registry.js'

/**
 * What the job runners need from the control plane, declared here by the consumer: run one
 * activity to its end, and fail the activities dead processes left behind.
 */
export interface ActivityExecutor {
  /**
   * Runs the activity if it is still pending (it claims it atomically), and resolves when it
   * has ended. Failures of the operation are the activity's result, not a rejection; a
   * rejection means the store could not be reached. `signal` is the runner's shutdown.
   */
  execute(activityId: string, signal: AbortSignal): Promise<void>
  /** Marks activities of dead workers failed ("interrupted"); returns their IDs. */
  recover(): Promise<readonly string[]>
}

/** This process as a runner: its ID and the worker labels it serves (null: unlabelled). */
export interface WorkerIdentity {
  readonly id: string
  readonly labels: readonly (string | null)[]
}

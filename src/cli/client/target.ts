import { InvalidInputError } from '../../errors.js'
import { findCheckout, readRemoteConfig } from './git-checkout.js'

/** Where -p/-e came from, for messages and `auth:info`. */
export interface Target {
  readonly project: string
  readonly environment: string | undefined
}

export interface TargetFlags {
  readonly project?: string
  readonly environment?: string
}

/**
 * The project and environment a command acts on: -p/-e first; else, inside a git checkout
 * with `.coffer/config.yaml`, its project and the checked-out branch as the environment.
 */
export async function resolveTarget(flags: TargetFlags, cwd: string): Promise<Target> {
  let project = flags.project
  let environment = flags.environment
  if (!project || !environment) {
    const checkout = await findCheckout(cwd)
    const config = checkout ? await readRemoteConfig(checkout.root) : undefined
    if (config) {
      project ??= config.project
      // The branch names the environment only in the project's own checkout.
      if (config.project === project) environment ??= checkout?.branch
    }
  }
  if (!project)
    throw new InvalidInputError(
      'project',
      'No project given: use -p PROJECT, or run coffer project:set-remote PROJECT in the project’s git checkout.',
    )
  return { project, environment }
}

/** As resolveTarget, and an environment is required. */
export async function resolveEnvironment(
  flags: TargetFlags,
  cwd: string,
): Promise<{ project: string; environment: string }> {
  const t = await resolveTarget(flags, cwd)
  if (!t.environment)
    throw new InvalidInputError(
      'environment',
      'No environment given: use -e ENVIRONMENT, or check out the environment’s branch.',
    )
  return { project: t.project, environment: t.environment }
}

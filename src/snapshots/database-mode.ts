import { probePhysical, type MysqlSource } from '../capture/index.js'
import { CofferError } from '../errors.js'
import type { DatabaseService } from './environment.js'
import type { OpContext } from './op-context.js'

/**
 * How a database service is captured: `logical` (the default) without asking; `physical`
 * when the service says so and a physical capture can run from here, else the capture fails
 * before anything is held; `auto` physical when it can run (MariaDB, `mariabackup` here, the
 * server's data directory readable and writable here; docs/PHYSICAL.md, "Environment
 * snapshots"), logical otherwise. The activity log says which mode was taken and why.
 */
export async function chooseCaptureMode(
  service: DatabaseService,
  source: MysqlSource,
  ctx: OpContext,
): Promise<'logical' | 'physical'> {
  const mode = service.mode ?? 'logical'
  if (mode === 'logical') return 'logical'
  const probe = await probePhysical(source, ctx.signal)
  const prefix = `Database service ${service.name}`
  if (probe.usable) {
    ctx.logLine(`${prefix}: physical mode (${probe.why})`)
    return 'physical'
  }
  if (mode === 'physical')
    throw new CofferError(
      'capture_failed',
      `${prefix} is set to physical mode, which cannot be used here: ${probe.why}. Set it to logical or auto, or run the backup on the database host.`,
    )
  ctx.logLine(`${prefix}: logical mode (auto: ${probe.why})`)
  return 'logical'
}

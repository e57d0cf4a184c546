import { CofferError } from '../errors.js'
import type { SnapshotWriter } from '../repo/index.js'
import type { ServicePart } from './capture-part.js'
import type { DatabaseService } from './environment.js'
import type { OpContext } from './op-context.js'

/** A database service as a capture part (MySQL/MariaDB through capture/mysql). */
export async function servicePart(
  service: DatabaseService,
  _writer: SnapshotWriter,
  _live: boolean,
  _ctx: OpContext,
): Promise<ServicePart> {
  throw new CofferError(
    'capture_failed',
    `Database service ${service.name}: database capture is not available in this build yet.`,
  )
}

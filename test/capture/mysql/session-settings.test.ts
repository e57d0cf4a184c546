import { describe, expect, it } from 'vitest'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import { openSession } from '../../../src/capture/mysql/session.js'
import {
  keepSessionSettings,
  PATCH_SETTING_NAMES,
  PATCH_SETTINGS,
} from '../../../src/capture/mysql/table-patch.js'
import { MYSQL_URL } from './mysql-harness.js'

/**
 * A patch changes its session's settings (PATCH_SETTINGS, lock waits when applied ahead) and
 * sets them back after: a text setting with commas and numbers alike, on the real server.
 */
describe('session settings kept across a patch', () => {
  it('sets sql_mode, the checks and the lock waits back as they were', async () => {
    const s = await openSession(parseMysqlUrl(MYSQL_URL))
    try {
      await s.query(
        "SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 1, unique_checks = 0, innodb_lock_wait_timeout = 7",
      )
      const names = [...PATCH_SETTING_NAMES, 'innodb_lock_wait_timeout']
      const read = async (): Promise<unknown[]> =>
        (await s.query(`SELECT ${names.map((n) => `@@SESSION.${n}`).join(', ')}`))[0]!.map((v) =>
          Buffer.isBuffer(v) ? v.toString() : String(v),
        )
      const before = await read()
      const restore = await keepSessionSettings(s, names)
      await s.query(PATCH_SETTINGS)
      await s.query('SET SESSION innodb_lock_wait_timeout = 5')
      expect(await read()).not.toEqual(before)
      await restore()
      expect(await read()).toEqual(before)
      expect(before).toEqual(['ANSI_QUOTES,NO_ENGINE_SUBSTITUTION', '1', '0', '1', '7'])
    } finally {
      s.destroy()
    }
  })
})

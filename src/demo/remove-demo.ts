import { rm } from 'node:fs/promises'
import { dropDemoDatabase, findMysql } from './demo-database.js'
import { readMarker } from './demo-marker.js'
import type { DemoApi } from './create-demo.js'

export interface RemoveContext {
  readonly api: DemoApi
  readonly dataDir: string
  readonly mysqlCandidates: readonly string[]
  readonly say: (line: string) => void
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}

/**
 * Removes what the demo created, as its marker lists it: the projects (records and
 * repositories), the demo databases (only names with the demo prefix) and the demo's
 * directory. Nothing else is touched. Returns false when there is no demo.
 */
export async function removeDemo(ctx: RemoveContext): Promise<boolean> {
  const marker = await readMarker(ctx.dataDir)
  if (!marker) return false
  for (const id of marker.projects) {
    let repository: string | undefined
    try {
      const p = await ctx.api('GET', `/api/projects/${encodeURIComponent(id)}`)
      repository = isRecord(p) && typeof p.repository === 'string' ? p.repository : undefined
    } catch {
      continue // already gone
    }
    await ctx.api('DELETE', `/api/projects/${encodeURIComponent(id)}`)
    // The API keeps a deleted project's repository (it may hold data someone needs); the
    // demo's repository holds only demo data, so it goes too.
    if (repository && !/^[a-z][a-z0-9+.-]*:\/\//i.test(repository))
      await rm(repository, { recursive: true, force: true })
    ctx.say(`Removed the demo project ${id}.`)
  }
  if (marker.databases.length > 0) {
    const server = await findMysql(ctx.mysqlCandidates)
    if (!server)
      ctx.say(
        `No MariaDB/MySQL server answered: drop ${marker.databases.join(', ')} by hand (or set COFFER_DEMO_MYSQL_URL).`,
      )
    else
      for (const db of marker.databases) {
        await dropDemoDatabase(server, db)
        ctx.say(`Dropped the demo database ${db}.`)
      }
  }
  await rm(marker.dir, { recursive: true, force: true })
  ctx.say('The demo is removed.')
  return true
}

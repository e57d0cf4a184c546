import { join } from 'node:path'
import { writeDemoMounts } from './demo-files.js'
import { createShopDatabase, databaseExists, databaseUrl, findMysql } from './demo-database.js'
import {
  DEMO_DB_PREFIX,
  DEMO_PROJECTS,
  demoDir,
  writeMarker,
  type DemoMarker,
} from './demo-marker.js'

/** The one call the demo makes to the API: a JSON request as the operator. */
export type DemoApi = (method: string, path: string, body?: unknown) => Promise<unknown>

export interface DemoContext {
  readonly api: DemoApi
  readonly dataDir: string
  /** Where to look for MariaDB/MySQL (COFFER_DEMO_MYSQL_URL, else the local defaults). */
  readonly mysqlCandidates: readonly string[]
  readonly say: (line: string) => void
  readonly now: () => Date
  /** The shop database's name (default coffer_demo_shop); always with the demo prefix. */
  readonly database?: string
}

export interface DemoResult {
  readonly projects: readonly string[]
  readonly database: string | undefined
}

/**
 * Creates the demo through the API: a Starter project `demo-shop` with an integration
 * environment (mounts with images and logs, and a shop database when a MariaDB/MySQL server
 * answers), and a Pro project `demo-pro` with production (backed up automatically). Records
 * every thing it creates in the marker before creating it, so a failure half-way is still
 * removable by `coffer demo:remove`.
 */
export async function createDemo(ctx: DemoContext): Promise<DemoResult> {
  const root = demoDir(ctx.dataDir)
  const marker: DemoMarker = {
    version: 1,
    createdAt: ctx.now().toISOString(),
    projects: [],
    databases: [],
    dir: root,
  }
  await writeMarker(ctx.dataDir, marker)

  const server = await findMysql(ctx.mysqlCandidates)
  const name = ctx.database ?? `${DEMO_DB_PREFIX}shop`
  const database = server ? name : undefined
  if (server && database) {
    // Recorded databases are dropped by demo:remove: never record one that was there before.
    if (await databaseExists(server, database))
      throw new Error(
        `A database ${database} already exists on the local MariaDB/MySQL and this demo did not make it: the demo leaves it alone. ` +
          'Drop it yourself if it is an old demo, or set COFFER_DEMO_DATABASE to another coffer_demo_… name, then start again.',
      )
    marker.databases.push(database)
    await writeMarker(ctx.dataDir, marker)
    try {
      await createShopDatabase(server, database)
      ctx.say(`Demo: created the shop database ${database} on the local MariaDB/MySQL.`)
    } catch (e) {
      throw new Error(
        `The demo could not create the database ${database} (${e instanceof Error ? e.message : String(e)}). ` +
          'Run `./bin/coffer demo:remove`, then start again.',
        { cause: e },
      )
    }
  } else {
    ctx.say(
      'Demo: no MariaDB/MySQL server answered (set COFFER_DEMO_MYSQL_URL to name one); the demo has mounts only.',
    )
  }

  const shop = DEMO_PROJECTS.starter
  marker.projects.push(shop)
  await writeMarker(ctx.dataDir, marker)
  await ctx.api('POST', '/api/projects', { id: shop, plan: 'starter', title: 'Demo shop' })
  const devMounts = await writeDemoMounts(join(root, shop, 'develop'), 'develop', ctx.now())
  await ctx.api('POST', `/api/projects/${shop}/environments`, {
    name: 'develop',
    type: 'integration',
    mounts: devMounts,
    ...(server && database
      ? { services: [{ name: 'mysql', kind: 'mysql', url: databaseUrl(server, database) }] }
      : {}),
  })

  const pro = DEMO_PROJECTS.pro
  marker.projects.push(pro)
  await writeMarker(ctx.dataDir, marker)
  await ctx.api('POST', '/api/projects', { id: pro, plan: 'pro', title: 'Demo Pro shop' })
  const prodMounts = await writeDemoMounts(join(root, pro, 'master'), 'production', ctx.now())
  await ctx.api('POST', `/api/projects/${pro}/environments`, {
    name: 'master',
    type: 'production',
    mounts: prodMounts,
  })
  // A first snapshot, so the Backups view has something to restore.
  await ctx.api('POST', `/api/projects/${shop}/environments/develop/backups`, { live: false })
  ctx.say(
    `Demo: created the projects ${shop} (Starter, develop: a first snapshot is being taken) and ${pro} (Pro, master: backed up automatically every hour).`,
  )
  return { projects: [shop, pro], database }
}

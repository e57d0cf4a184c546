import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Everything the demo made, written as it goes, so `coffer demo:remove` removes exactly that. */
export interface DemoMarker {
  readonly version: 1
  readonly createdAt: string
  readonly projects: string[]
  readonly databases: string[]
  /** The demo's directory under the data directory (mounts); removed whole. */
  readonly dir: string
}

/** Every name the demo gives a database starts with this, and removal drops no other. */
export const DEMO_DB_PREFIX = 'coffer_demo_'
export const DEMO_PROJECTS = { starter: 'demo-shop', pro: 'demo-pro' } as const

export const demoDir = (dataDir: string): string => join(dataDir, 'demo')
const markerPath = (dataDir: string): string => join(demoDir(dataDir), 'demo.json')

export async function readMarker(dataDir: string): Promise<DemoMarker | undefined> {
  let text: string
  try {
    text = await readFile(markerPath(dataDir), 'utf8')
  } catch {
    return undefined
  }
  const v: unknown = JSON.parse(text)
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  const strings = (x: unknown): string[] =>
    Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []
  return {
    version: 1,
    createdAt: typeof o.createdAt === 'string' ? o.createdAt : '',
    projects: strings(o.projects),
    databases: strings(o.databases).filter((d) => d.startsWith(DEMO_DB_PREFIX)),
    dir: demoDir(dataDir),
  }
}

export async function writeMarker(dataDir: string, m: DemoMarker): Promise<void> {
  await mkdir(demoDir(dataDir), { recursive: true })
  await writeFile(markerPath(dataDir), JSON.stringify(m, null, 2) + '\n')
}

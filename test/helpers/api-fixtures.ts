import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { ADMIN_PASSWORD, type ApiResponse, type TestServer } from './api-harness.js'

export const USER_PASSWORD = 'user-password-Kx72'

/** The people of the tests, by their role on the project `shop`. */
export const PEOPLE = ['none', 'viewer', 'contributor', 'admin', 'override', 'operator'] as const
export type Person = (typeof PEOPLE)[number]

/** The user name of each person. */
export const NAMES: Record<Person, string> = {
  none: 'nadia',
  viewer: 'victor',
  contributor: 'carol',
  admin: 'alice',
  override: 'oscar',
  operator: 'olga',
}

export interface World {
  readonly tokens: Record<Person, string> & { root: string }
  /** Mount directories by environment name (`shop/develop`, …). */
  readonly mounts: Record<string, string>
}

/** Fails the test unless the call succeeded with `status`. */
export function ok(r: ApiResponse, status = 200): ApiResponse {
  expect(r.status, r.text).toBe(status)
  return r
}

async function mountDir(s: TestServer, key: string): Promise<string> {
  const dir = join(s.dir, 'envs', key, 'pub-media')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'logo.svg'), `<svg>${key}</svg>\n`)
  await writeFile(join(dir, 'product.jpg'), Buffer.alloc(4096, key.length))
  return dir
}

/**
 * Users, projects and environments most API tests share:
 * - people none, viewer, contributor, admin (project roles on `shop`), override (viewer on
 *   `shop`, admin on `shop/develop` only), operator — user names in NAMES;
 * - project `shop` (starter): `develop` (integration, active), `feature` (integration),
 *   `old` (integration, inactive), `staging` (staging);
 * - project `pro` (pro): `production`, `staging`, `integration`; user admin is its admin.
 */
export async function setupWorld(s: TestServer): Promise<World> {
  const root = await apiToken(s, await s.login('admin', ADMIN_PASSWORD))
  s.watch.add(USER_PASSWORD)
  for (const p of PEOPLE)
    ok(
      await s.call('POST', '/api/users', {
        token: root,
        body: { name: NAMES[p], password: USER_PASSWORD, operator: p === 'operator' },
      }),
      201,
    )
  ok(
    await s.call('POST', '/api/projects', {
      token: root,
      body: { id: 'shop', plan: 'starter', title: 'Shop' },
    }),
    201,
  )
  ok(await s.call('POST', '/api/projects', { token: root, body: { id: 'pro', plan: 'pro' } }), 201)
  const mounts: Record<string, string> = {}
  const envs = [
    ['shop', 'develop', 'integration', 'active'],
    ['shop', 'feature', 'integration', 'active'],
    ['shop', 'old', 'integration', 'inactive'],
    ['shop', 'staging', 'staging', 'active'],
    ['pro', 'production', 'production', 'active'],
    ['pro', 'staging', 'staging', 'active'],
    ['pro', 'integration', 'integration', 'active'],
  ] as const
  for (const [project, name, type, status] of envs) {
    const dir = await mountDir(s, `${project}/${name}`)
    mounts[`${project}/${name}`] = dir
    ok(
      await s.call('POST', `/api/projects/${project}/environments`, {
        token: root,
        body: { name, type, status, mounts: [{ name: 'pub/media', path: dir }] },
      }),
      201,
    )
  }
  const grant = async (project: string, user: string, role: string, environment?: string) =>
    ok(
      await s.call('PUT', `/api/projects/${project}/access/${user}`, {
        token: root,
        body: { role, ...(environment ? { environment } : {}) },
      }),
    )
  await grant('shop', NAMES.viewer, 'viewer')
  await grant('shop', NAMES.contributor, 'contributor')
  await grant('shop', NAMES.admin, 'admin')
  await grant('shop', NAMES.override, 'viewer')
  await grant('shop', NAMES.override, 'admin', 'develop')
  await grant('pro', NAMES.admin, 'admin')
  const tokens = { root } as Record<Person, string> & { root: string }
  for (const p of PEOPLE) tokens[p] = await apiToken(s, await s.login(NAMES[p], USER_PASSWORD))
  return { tokens, mounts }
}

/**
 * An API token made with a session: unlike the session (hours), it does not expire, so tests
 * that move the clock by days keep their people signed in, as a cron job's token would.
 */
export async function apiToken(s: TestServer, session: string, name = 'tests'): Promise<string> {
  const r = ok(
    await s.call('POST', '/api/tokens', { token: session, body: { name }, issuesSecret: true }),
    201,
  )
  const token = (r.json as { token: string }).token
  s.watch.add(token)
  return token
}

/** Takes a manual snapshot of an environment and waits for it; returns its short ID. */
export async function takeSnapshot(
  s: TestServer,
  token: string,
  project: string,
  env: string,
  live = false,
): Promise<string> {
  const r = ok(
    await s.call('POST', `/api/projects/${project}/environments/${env}/backups`, {
      token,
      body: { live },
    }),
    202,
  )
  const a = await s.waitActivity(project, (r.json as { id: string }).id, token)
  expect(a, JSON.stringify(a)).toMatchObject({ state: 'complete', result: 'success' })
  return a.snapshot as string
}

/**
 * Creates project `shop` (starter) with environment `develop` (integration) whose one mount,
 * `pub/media`, is a new directory under the server's directory holding `a.txt` ("one");
 * returns that directory.
 */
export async function createShopWithMedia(s: TestServer, token: string): Promise<string> {
  const media = join(s.dir, 'shop/pub/media')
  await mkdir(media, { recursive: true })
  await writeFile(join(media, 'a.txt'), 'one')
  ok(await s.call('POST', '/api/projects', { token, body: { id: 'shop', plan: 'starter' } }), 201)
  ok(
    await s.call('POST', '/api/projects/shop/environments', {
      token,
      body: { name: 'develop', type: 'integration', mounts: [{ name: 'pub/media', path: media }] },
    }),
    201,
  )
  return media
}

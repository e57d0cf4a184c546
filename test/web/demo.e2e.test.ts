import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../helpers/tmp-dir.js'
import { buildConsole, freePort, ROOT, run } from './coffer-process.js'

// `npm start`'s demo, as a newcomer meets it: `coffer demo:start` on a fresh data directory,
// the console showing the demo projects, then `coffer demo:remove` leaving nothing behind.
const MYSQL = new URL(process.env.COFFER_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306')
const DB = `coffer_demo_e2e_${process.pid}`
const SHOTS = join(ROOT, 'test-results', 'web')
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let tmp: { path: string; cleanup: () => Promise<void> }
let dataDir: string
let consoleDir: string
let url: string
let password: string
let browser: Browser
let stopDemo: (() => Promise<void>) | undefined
const problems: string[] = []
const env = {
  ...process.env,
  COFFER_TEST_FAST_KDF: '1',
  COFFER_TEST_POLL_MS: '100',
  COFFER_DEMO_MYSQL_URL: MYSQL.toString(),
  COFFER_DEMO_DATABASE: DB,
  COFFER_ADMIN_PASSWORD: '',
}

async function databases(): Promise<string[]> {
  const c = await mysql.createConnection({
    host: MYSQL.hostname,
    port: Number(MYSQL.port || 3306),
    user: decodeURIComponent(MYSQL.username),
    password: decodeURIComponent(MYSQL.password),
  })
  try {
    const [rows] = await c.query(`SHOW DATABASES LIKE '${DB}'`)
    return (rows as Record<string, string>[]).map((r) => Object.values(r)[0]!)
  } finally {
    await c.end()
  }
}

async function page(viewport = { width: 1280, height: 860 }): Promise<Page> {
  const p = await browser.newPage({ viewport })
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
  })
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  return p
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  tmp = await makeTempDir('web-demo')
  dataDir = join(tmp.path, 'data')
  consoleDir = join(tmp.path, 'console')
  await buildConsole(consoleDir)
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/coffer'),
      'demo:start',
      '--data-dir',
      dataDir,
      '--listen',
      `127.0.0.1:${port}`,
      '--console-dir',
      consoleDir,
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr.on('data', (b: Buffer) => (out += b.toString()))
  const exited = once(child, 'exit')
  stopDemo = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  }
  const deadline = Date.now() + 60_000
  while (!/Sign in as admin with the password (\S+) /.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`coffer demo:start did not come up:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  password = /Sign in as admin with the password (\S+) /.exec(out)![1]!
  expect(out).toContain(`Coffer is running: ${url}/`)
  expect(out).toContain(`Demo: created the shop database ${DB}`)
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await stopDemo?.()
  if (existsSync(join(dataDir, 'demo')))
    await run(process.execPath, [join(ROOT, 'bin/coffer'), 'demo:remove', '--data-dir', dataDir])
  await tmp?.cleanup()
})

describe('npm start demo', () => {
  it('shows the demo projects in the console', async () => {
    expect(await databases()).toEqual([DB])
    const p = await page()
    await p.goto(url + '/')
    await p.getByLabel('User name').fill('admin')
    await p.getByLabel('Password').fill(password)
    await p.getByRole('button', { name: 'Sign in' }).click()
    // The first environment of the first project opens by itself.
    await p.getByRole('heading', { name: /^Backups / }).waitFor()
    await p.getByLabel('Project', { exact: true }).selectOption('demo-shop')
    await p.getByRole('heading', { name: 'Backups develop' }).waitFor()
    // The demo's first snapshot completes and is listed.
    await p.locator('tr[data-snapshot]').first().waitFor({ timeout: 90_000 })
    await p.screenshot({ path: join(SHOTS, 'demo-01-starter.png'), fullPage: true })

    await p.getByLabel('Project', { exact: true }).selectOption('demo-pro')
    await p.getByRole('heading', { name: 'Backups master' }).waitFor()
    expect(await p.getByRole('button', { name: 'Backup', exact: true }).isDisabled()).toBe(true)
    expect(await p.locator('.reason').innerText()).toContain('backed up automatically')
    await p.screenshot({ path: join(SHOTS, 'demo-02-pro.png'), fullPage: true })

    await p.getByRole('link', { name: 'Project settings' }).click()
    await p.getByRole('heading', { name: 'Schedules and retention' }).waitFor()
    // The automatic schedule of Pro production exists from the environment's creation on:
    // no page reload, well within the scheduler's first tick (30 s).
    await expect
      .poll(() => p.locator('section', { hasText: 'Schedules' }).innerText(), {
        timeout: 10_000,
      })
      .toContain('(automatic)')
    await p.screenshot({ path: join(SHOTS, 'demo-03-settings.png'), fullPage: true })

    for (const [link, heading, name] of [
      ['Projects and environments', 'Projects and environments', 'demo-04-projects'],
      ['Users', 'Users', 'demo-05-users'],
      ['Repositories', 'Repositories', 'demo-06-repositories'],
    ] as const) {
      await p.getByRole('link', { name: link }).click()
      await p.getByRole('heading', { name: heading, exact: true }).waitFor()
      await expect.poll(() => p.locator('.loading').count()).toBe(0)
      await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
    }
    // Still on Repositories: each project's health, and a check run from the page.
    await p.getByText('Deduplication', { exact: true }).first().waitFor()
    await p.getByText('never checked').first().waitFor()
    await p.getByRole('button', { name: 'Check now' }).first().click()
    await p
      .getByText(/: structure, no errors \(/)
      .first()
      .waitFor()
    await p.screenshot({ path: join(SHOTS, 'demo-06b-repository-checked.png'), fullPage: true })
    await p.goto(`${url}/#/projects/demo-shop/environments/develop/insights`)
    await p.getByRole('figure').first().waitFor()
    expect(await p.getByRole('img', { name: /Snapshot sizes/ }).count()).toBe(1)
    await p.screenshot({ path: join(SHOTS, 'demo-07-charts.png'), fullPage: true })
    await p.close()
    expect(problems).toEqual([])
  }, 180_000)

  it('is removed by coffer demo:remove, and only it', async () => {
    await stopDemo?.()
    const out = await run(process.execPath, [
      join(ROOT, 'bin/coffer'),
      'demo:remove',
      '--data-dir',
      dataDir,
    ])
    expect(out).toContain('Removed the demo project demo-shop.')
    expect(out).toContain('Removed the demo project demo-pro.')
    expect(out).toContain(`Dropped the demo database ${DB}.`)
    expect(out).toContain('The demo is removed.')
    expect(await databases()).toEqual([])
    expect(existsSync(join(dataDir, 'demo'))).toBe(false)
    expect(await readdir(join(dataDir, 'repos'))).toEqual([])
    // The install itself stays: its metadata, master key and operator.
    expect(existsSync(join(dataDir, 'coffer.db'))).toBe(true)
    expect(existsSync(join(dataDir, 'master.key'))).toBe(true)
  }, 120_000)
})

import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../helpers/tmp-dir.js'
import { Api, buildConsole, ROOT, startCoffer, type CofferProcess } from './coffer-process.js'

// The console end to end: a real `coffer serve` (built), a real MariaDB database and real
// directories as the environment's data, and Debian's chromium driven by playwright-core.
const ADMIN_PASSWORD = 'admin-password-e2e-4471'
const PASSWORD = 'user-password-e2e-9902'
const MYSQL = new URL(process.env.COFFER_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306')
const DB = `coffer_e2e_${process.pid}_${randomBytes(3).toString('hex')}`
const SHOTS = join(ROOT, 'test-results', 'web')
const PHONE = { width: 390, height: 844 }

const BROWSER_ARGS = [
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
let coffer: CofferProcess
let browser: Browser
let sql: mysql.Connection
let media: string
let dataDir: string
const problems: string[] = []

async function newPage(viewport = { width: 1280, height: 860 }): Promise<Page> {
  const page = await browser.newPage({ viewport })
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  return page
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto(coffer.url + '/')
  await page.getByLabel('User name').fill(user)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

async function openEnv(page: Page, project: string, env: string): Promise<void> {
  await page.goto(`${coffer.url}/#/projects/${project}/environments/${env}/backups`)
  try {
    await page.getByRole('heading', { name: `Backups ${env}` }).waitFor()
  } catch (e) {
    // Say where the console was and what it showed, so that a failure here can be read.
    const shown = await page.locator('main').innerText({ timeout: 1000 }).catch(String)
    throw new Error(`${(e as Error).message}\nat ${page.url()} the page shows:\n${shown}`)
  }
}

/** The text a button is described by (aria-describedby): the reason it is disabled. */
async function description(page: Page, name: string): Promise<string> {
  const button = page.getByRole('button', { name, exact: true })
  const ids = (await button.getAttribute('aria-describedby')) ?? ''
  const texts: string[] = []
  for (const id of ids.split(/\s+/).filter(Boolean))
    texts.push((await page.locator(`[id="${id}"]`).innerText()).trim())
  return texts.join(' ')
}

async function fileState(): Promise<Record<string, string>> {
  const names = ['logo.svg', 'banner.jpg', 'notes.txt', 'added.txt']
  const out: Record<string, string> = {}
  for (const n of names) out[n] = await readFile(join(media, n), 'utf8').catch(() => '<missing>')
  return out
}

async function prices(): Promise<unknown[]> {
  const [rows] = await sql.query(`SELECT sku, price FROM \`${DB}\`.products ORDER BY sku`)
  return rows as unknown[]
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  tmp = await makeTempDir('web-e2e')
  dataDir = join(tmp.path, 'data')
  const consoleDir = join(tmp.path, 'console')
  await buildConsole(consoleDir)

  media = join(tmp.path, 'envs', 'develop', 'pub-media')
  await mkdir(media, { recursive: true })
  await writeFile(join(media, 'logo.svg'), '<svg>shop</svg>\n')
  await writeFile(join(media, 'banner.jpg'), 'jpeg-bytes-'.repeat(500))
  await writeFile(join(media, 'notes.txt'), 'original notes\n')
  const proMedia = join(tmp.path, 'envs', 'production', 'pub-media')
  await mkdir(proMedia, { recursive: true })
  await writeFile(join(proMedia, 'logo.svg'), '<svg>pro</svg>\n')

  sql = await mysql.createConnection({
    host: MYSQL.hostname,
    port: Number(MYSQL.port || 3306),
    user: decodeURIComponent(MYSQL.username),
    password: decodeURIComponent(MYSQL.password),
  })
  await sql.query(`CREATE DATABASE \`${DB}\``)
  await sql.query(
    `CREATE TABLE \`${DB}\`.products (sku VARCHAR(32) PRIMARY KEY, price DECIMAL(10,2)) ENGINE=InnoDB`,
  )
  await sql.query(
    `INSERT INTO \`${DB}\`.products VALUES ('MUG-1', 12.50), ('TEE-2', 25.00), ('CAP-3', 18.00)`,
  )

  coffer = await startCoffer({ dataDir, consoleDir, adminPassword: ADMIN_PASSWORD })
  const api = new Api(coffer.url)
  await api.login('admin', ADMIN_PASSWORD)
  for (const name of ['alice', 'victor'])
    await api.call('POST', '/api/users', { name, password: PASSWORD })
  await api.call('POST', '/api/projects', { id: 'shop', plan: 'starter', title: 'Shop' })
  await api.call('POST', '/api/projects', { id: 'pro', plan: 'pro', title: 'Pro shop' })
  const dbUrl = new URL(MYSQL)
  dbUrl.pathname = `/${DB}`
  await api.call('POST', '/api/projects/shop/environments', {
    name: 'develop',
    type: 'integration',
    services: [{ name: 'mysql', kind: 'mysql', url: dbUrl.toString() }],
    mounts: [{ name: 'pub/media', path: media }],
  })
  await api.call('POST', '/api/projects/pro/environments', {
    name: 'production',
    type: 'production',
    mounts: [{ name: 'pub/media', path: proMedia }],
  })
  await api.call('PUT', '/api/projects/shop/access/alice', { role: 'admin' })
  await api.call('PUT', '/api/projects/pro/access/alice', { role: 'admin' })
  await api.call('PUT', '/api/projects/shop/access/victor', { role: 'viewer' })

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await coffer?.stop()
  await sql?.query(`DROP DATABASE IF EXISTS \`${DB}\``)
  await sql?.end()
  await tmp?.cleanup()
})

describe('console', () => {
  let snapshot = ''

  it('takes a snapshot with the Backup button and shows it complete', async () => {
    const page = await newPage()
    await page.goto(coffer.url + '/')
    await shot(page, '01-sign-in')
    await signIn(page, 'alice', PASSWORD)
    await openEnv(page, 'shop', 'develop')
    expect(await page.getByRole('link', { name: 'Backups' }).getAttribute('aria-current')).toBe(
      'page',
    )
    await shot(page, '02-backups-empty')

    await page.getByRole('button', { name: 'Backup', exact: true }).click()
    const running = page.getByRole('region', { name: 'Running activity' })
    await running.waitFor()
    await shot(page, '03-backup-running')
    const done = page.getByRole('status').filter({ hasText: /Snapshot [0-9a-f]{8} created\./ })
    await done.waitFor({ timeout: 60_000 })
    snapshot = /Snapshot ([0-9a-f]{8}) created/.exec(await done.innerText())![1]!
    const row = page.locator(`tr[data-snapshot="${snapshot}"]`)
    await row.waitFor()
    const text = await row.innerText()
    expect(text).toContain('Restorable')
    expect(text).toContain('manual')
    expect(text).toContain('consistent')
    expect(text).toContain('alice')
    await shot(page, '04-backup-complete')

    await page.getByRole('link', { name: 'Activities' }).click()
    const item = page.locator('li.activity').first()
    await item.waitFor()
    expect(await item.textContent()).toContain('success')
    await item.locator('summary').click()
    await expect.poll(() => item.getByRole('log').innerText()).toContain('snapshot')
    await shot(page, '05-activities')
    await page.close()
  }, 120_000)

  it('restores the snapshot through More → Restore → "Yes, restore"', async () => {
    const before = await fileState()
    const pricesBefore = await prices()
    await writeFile(join(media, 'notes.txt'), 'changed by mistake\n')
    await rm(join(media, 'logo.svg'))
    await writeFile(join(media, 'added.txt'), 'not in the snapshot\n')
    await sql.query(`UPDATE \`${DB}\`.products SET price = 0.01`)
    await sql.query(`DELETE FROM \`${DB}\`.products WHERE sku = 'CAP-3'`)
    expect(await fileState()).not.toEqual(before)

    const page = await newPage()
    await signIn(page, 'alice', PASSWORD)
    await openEnv(page, 'shop', 'develop')
    await page.getByRole('button', { name: `More actions for snapshot ${snapshot}` }).click()
    await page.getByRole('menuitem', { name: 'Restore' }).click()
    const dialog = page.getByRole('dialog', { name: `Restore snapshot ${snapshot}` })
    await dialog.waitFor()
    await dialog.getByText('Estimated duration').waitFor({ timeout: 30_000 })
    const preview = await dialog.innerText()
    expect(preview).toContain('pub/media')
    expect(preview).toContain(DB)
    expect(preview).toContain('will be replaced')
    // The dialog took the focus (its first control).
    expect(await dialog.locator('select:focus').count()).toBe(1)
    await shot(page, '06-restore-preview')

    await dialog.getByRole('button', { name: 'Yes, restore' }).click()
    await dialog.waitFor({ state: 'hidden' })
    // The restore runs on the Backups view; its outcome replaces the running activity.
    const outcome = page.locator('.notice')
    await outcome.waitFor({ timeout: 90_000 })
    await shot(page, '07-restore-complete')
    expect(await outcome.getAttribute('class'), await outcome.innerText()).toBe('notice ok')

    expect(await fileState()).toEqual(before)
    expect(await prices()).toEqual(pricesBefore)
    await page.close()
  }, 120_000)

  it('shows the Backup button disabled with the reason on Pro production', async () => {
    const page = await newPage()
    await signIn(page, 'alice', PASSWORD)
    await openEnv(page, 'pro', 'production')
    const button = page.getByRole('button', { name: 'Backup', exact: true })
    expect(await button.isDisabled()).toBe(true)
    expect(await description(page, 'Backup')).toBe(
      'Manual snapshots are not available on Pro staging and production environments: they are backed up automatically.',
    )
    await shot(page, '08-pro-production-disabled')
    await page.close()
  })

  it('shows the Backup button disabled with the reason to a viewer', async () => {
    const page = await newPage()
    await signIn(page, 'victor', PASSWORD)
    await openEnv(page, 'shop', 'develop')
    const button = page.getByRole('button', { name: 'Backup', exact: true })
    expect(await button.isDisabled()).toBe(true)
    expect(await description(page, 'Backup')).toBe(
      'You must be an administrator to create a snapshot.',
    )
    await page.getByRole('button', { name: `More actions for snapshot ${snapshot}` }).click()
    expect(
      await page.getByRole('menuitem', { name: /Restore/ }).getAttribute('aria-disabled'),
    ).toBe('true')
    await shot(page, '09-viewer-disabled')
    await page.close()
  })

  it('shows a snapshot older than 7 days as not restorable', async () => {
    // The server's clock cannot be moved from outside, so the snapshot is made old instead:
    // its catalog record is dated eight days back, as if it had been taken then.
    const db = new Database(join(dataDir, 'coffer.db'))
    const old = new Date(Date.now() - 8 * 24 * 3_600_000).toISOString()
    db.prepare('UPDATE snapshots SET created_at = ? WHERE id = ?').run(old, snapshot)
    db.close()

    const page = await newPage(PHONE)
    await signIn(page, 'alice', PASSWORD)
    await openEnv(page, 'shop', 'develop')
    const row = page.locator(`tr[data-snapshot="${snapshot}"]`)
    await expect.poll(() => row.innerText()).toContain('Expired — not restorable')
    await row.getByRole('button', { name: `More actions for snapshot ${snapshot}` }).click()
    const restore = page.getByRole('menuitem', { name: /Restore/ })
    expect(await restore.getAttribute('aria-disabled')).toBe('true')
    expect(await restore.innerText()).toContain(
      `The snapshot ${snapshot} cannot be restored: it is older than 7 days.`,
    )
    await shot(page, '10-expired-phone')
    await page.keyboard.press('Escape')
    await page.getByRole('button', { name: 'Menu' }).click()
    expect(await page.getByLabel('Environment', { exact: true }).isVisible()).toBe(true)
    await shot(page, '11-phone-menu')
    await page.close()
  })

  it('logged no console errors', () => {
    expect(problems).toEqual([])
  })
})

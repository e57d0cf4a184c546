import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js'
import { makeTempDir } from '../helpers/tmp-dir.js'
import { Api, buildConsole, ROOT, startCoffer, type CofferProcess } from './coffer-process.js'

// The operator's pages end to end: a real `coffer serve` (built), s3rver over HTTPS with a
// certificate made now, and Debian's chromium driven by playwright-core. The server is given
// neither S3 credentials nor the CA: what reaches the storage comes from the console's form.
const ADMIN_PASSWORD = 'admin-password-ops-5318'
const SHOTS = join(ROOT, 'test-results', 'web')
const MYSQL_URL = 'mysql://root@127.0.0.1:3306/coffer_e2e_physical'
const WRONG_SECRET = 'wrong-secret-ops-7702'
// Chromium reports every failed request on its console; the wrong credentials' 502 is meant.
const EXPECTED_PROBLEM = /status of 502/

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
let s3: S3TestServer
let coffer: CofferProcess
let api: Api
let browser: Browser
let location = ''
const problems: string[] = []

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  return page
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

async function signIn(page: Page, hash: string): Promise<void> {
  await page.goto(coffer.url + '/')
  await page.getByLabel('User name').fill('admin')
  await page.getByLabel('Password').fill(ADMIN_PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
  await page.goto(`${coffer.url}/${hash}`)
}

/** Fills the New project form with an S3 repository of its own. */
async function fillProject(
  form: Locator,
  p: { id: string; location: string; key: string; secret: string },
): Promise<void> {
  await form.getByLabel('Project ID').fill(p.id)
  await form.getByLabel('Title').fill(`Project ${p.id}`)
  await form.getByLabel('Plan').selectOption('starter')
  await form.getByText('Own repository location (optional)').click()
  await form.getByLabel('Repository location').fill(p.location)
  await form.getByLabel('Access key ID').fill(p.key)
  await form.getByLabel('Secret access key').fill(p.secret)
  await form.getByLabel('Region (optional)').fill('us-east-1')
  await form.getByLabel('Bucket lookup').selectOption('path')
  await form.getByLabel('CA certificate (PEM, optional)').fill(s3.ca.toString('utf8'))
  await form.getByLabel('Storage class of data packs (optional)').fill('STANDARD')
}

function projectCard(page: Page, id: string): Locator {
  return page.locator('section.card', { has: page.locator(`[id="proj-${id}"]`) })
}

async function waitActivity(project: string, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const a = (await api.call('GET', `/api/projects/${project}/activities/${id}`)) as Record<
      string,
      unknown
    >
    if (a.state === 'complete' || a.state === 'cancelled') return a
    if (Date.now() > deadline) throw new Error(`activity ${id} still ${String(a.state)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  tmp = await makeTempDir('web-operator')
  const consoleDir = join(tmp.path, 'console')
  s3 = await startS3Server('web-operator')
  await buildConsole(consoleDir)
  coffer = await startCoffer({
    dataDir: join(tmp.path, 'data'),
    consoleDir,
    adminPassword: ADMIN_PASSWORD,
    // s3rver stores the framing of streamed checksum trailers as data (test/helpers/s3-server.ts).
    env: {
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  })
  api = new Api(coffer.url)
  await api.login('admin', ADMIN_PASSWORD)
  location = `${s3.freshLocation('console')}/coffer`
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await coffer?.stop()
  await s3?.stop()
  await tmp?.cleanup()
})

describe('operator console', () => {
  it('creates a project whose repository is in S3, and lists its location', async () => {
    const page = await newPage()
    await signIn(page, '#/admin/projects')
    const form = page.getByRole('form', { name: 'New project' })
    await fillProject(form, { id: 'media', location, key: 'S3RVER', secret: 'S3RVER' })
    await shot(page, 'operator-01-new-s3-project')
    await form.getByRole('button', { name: 'Create project' }).click()
    const card = projectCard(page, 'media')
    await card.waitFor({ timeout: 30_000 })
    expect(await card.getByText('Repository:').innerText()).toBe(`Repository: ${location}`)
    // The form is cleared once the project exists: the secret is not kept on the page.
    expect(await form.getByLabel('Secret access key').inputValue()).toBe('')
    expect(await form.getByLabel('CA certificate (PEM, optional)').inputValue()).toBe('')
    const listed = (await api.call('GET', '/api/projects/media')) as { repository: string }
    expect(listed.repository).toBe(location)
    await page.close()
  }, 90_000)

  it('shows the API’s message when the S3 credentials are wrong', async () => {
    const page = await newPage()
    await signIn(page, '#/admin/projects')
    const form = page.getByRole('form', { name: 'New project' })
    await fillProject(form, {
      id: 'blog',
      location: `${s3.freshLocation('wrong')}/coffer`,
      key: 'NOBODY-KEY',
      secret: WRONG_SECRET,
    })
    await form.getByRole('button', { name: 'Create project' }).click()
    const alert = form.getByRole('alert')
    await alert.waitFor({ timeout: 30_000 })
    expect(await alert.innerText()).toContain('access denied (HTTP 403)')
    expect(await alert.innerText()).not.toContain(WRONG_SECRET)
    await shot(page, 'operator-02-wrong-credentials')
    expect(await projectCard(page, 'blog').count()).toBe(0)
    await page.close()
  }, 90_000)

  it('registers an environment with a physical database, shows the mode, and changes it', async () => {
    const media = join(tmp.path, 'envs', 'develop')
    await mkdir(media, { recursive: true })
    const page = await newPage()
    await signIn(page, '#/admin/projects')
    const card = projectCard(page, 'media')
    const form = card.getByRole('form', { name: 'New environment of media' })
    await form.getByLabel('Name (the git branch)').fill('develop')
    await form.getByLabel('Type').selectOption('integration')
    await form.getByLabel('Mounts, one a line: name=directory').fill(`pub/media=${media}`)
    await form.getByLabel('Database (optional)').fill(MYSQL_URL)
    await form.getByLabel('Database mode').selectOption('physical')
    await form.getByRole('button', { name: 'Add environment' }).click()
    const row = card.locator('tbody tr').filter({ hasText: 'develop' })
    await row.waitFor()
    const services = row.locator('td[data-label="Services"]')
    await expect.poll(() => services.innerText()).toBe(`${MYSQL_URL} physical`)
    const env = (await api.call('GET', '/api/projects/media/environments/develop')) as {
      services: { mode: string }[]
    }
    expect(env.services).toMatchObject([{ name: 'mysql', mode: 'physical' }])
    await shot(page, 'operator-03-physical-environment')

    await card.getByText('Change the databases of develop').click()
    const edit = card.getByRole('form', { name: 'Databases of develop' })
    expect(await edit.getByLabel('Mode of mysql').inputValue()).toBe('physical')
    await edit.getByLabel('URL of mysql').fill(MYSQL_URL)
    await edit.getByLabel('Mode of mysql').selectOption('auto')
    await edit.getByRole('button', { name: 'Save databases' }).click()
    await expect.poll(() => services.innerText()).toBe(`${MYSQL_URL} auto`)

    await page.goto(`${coffer.url}/#/projects/media/settings`)
    const section = page.getByRole('region', { name: 'Environments' })
    await section.waitFor()
    expect(
      await section.locator('tr', { hasText: 'develop' }).locator('td').nth(3).innerText(),
    ).toBe(`${MYSQL_URL} auto`)
    expect(await page.getByText('Repository:').first().innerText()).toBe(`Repository: ${location}`)
    await shot(page, 'operator-04-settings-modes')
    await page.close()
  }, 90_000)

  it('charts the repository’s size, with its figures, after a snapshot', async () => {
    const assets = join(tmp.path, 'envs', 'assets')
    await mkdir(assets, { recursive: true })
    await writeFile(join(assets, 'logo.svg'), '<svg>media</svg>\n'.repeat(400))
    await api.call('POST', '/api/projects/media/environments', {
      name: 'assets',
      type: 'integration',
      mounts: [{ name: 'pub/media', path: assets }],
    })
    const started = (await api.call('POST', '/api/projects/media/environments/assets/backups', {
      live: false,
    })) as { id: string }
    expect(await waitActivity('media', started.id)).toMatchObject({ result: 'success' })

    const page = await newPage()
    await signIn(page, '#/admin/repository')
    const chart = page.getByRole('figure', { name: 'Repository size, media' })
    await chart.waitFor({ timeout: 30_000 })
    const img = chart.getByRole('img')
    expect(await img.getAttribute('aria-label')).toMatch(/^Repository size, media: \d+ values?/)
    await chart.getByText('Figures').click()
    const rows = chart.locator('tbody tr')
    expect(await rows.count()).toBeGreaterThan(0)
    const last = rows.last()
    // The newest sample holds what the health above it reports.
    const stored = await page
      .locator('section.card', { has: page.locator('[id="repo-media"]') })
      .locator('dl.facts dd')
      .first()
      .innerText()
    expect(stored).toMatch(/ in \d+ packs?$/)
    expect(await last.locator('td').first().innerText()).toBe(stored.split(' in ')[0])
    expect(await last.locator('td').nth(1).innerText()).toMatch(
      /^\d+ packs?; 1 snapshot, [\d.]+ (B|KiB|MiB) before deduplication$/,
    )
    await shot(page, 'operator-05-repository-size')
    await page.close()
  }, 120_000)

  it('logged no console errors but the refused request', () => {
    expect(problems.filter((p) => !EXPECTED_PROBLEM.test(p))).toEqual([])
  })
})

import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import {
  EnvironmentDatabasesForm,
  servicesPatch,
} from '../../../web/src/operator/environment-databases-form.js'
import {
  environmentBody,
  NewEnvironmentForm,
} from '../../../web/src/operator/new-environment-form.js'
import { NewProjectForm, projectBody } from '../../../web/src/operator/new-project-form.js'
import { ServiceList } from '../../../web/src/operator/service-list.js'
import { environment } from './fixtures.js'

function form(fields: Record<string, string>): FormData {
  const d = new FormData()
  for (const [k, v] of Object.entries(fields)) d.set(k, v)
  return d
}

/** The tag of the form control named `name` (attributes in React's order). */
function control(html: string, name: string): string {
  return new RegExp(`<(input|select|textarea)[^>]*name="${name}"[^>]*>`).exec(html)?.[0] ?? ''
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n'

describe('new project form', () => {
  const cases: { name: string; fields: Record<string, string>; body: unknown }[] = [
    {
      name: 'the server’s default location',
      fields: { id: 'shop', plan: 'starter', title: '', location: '', s3_secret_access_key: '' },
      body: { id: 'shop', plan: 'starter' },
    },
    {
      name: 'a directory of its own',
      fields: { id: 'shop', plan: 'pro', title: 'Shop', location: ' /srv/backups/shop ' },
      body: {
        id: 'shop',
        plan: 'pro',
        title: 'Shop',
        repository: { location: '/srv/backups/shop' },
      },
    },
    {
      name: 'S3 with the fields given, the empty ones left to the server',
      fields: {
        id: 'media',
        plan: 'starter',
        location: 's3:https://127.0.0.1:9000/bucket/coffer',
        s3_access_key_id: 'AKIA1',
        s3_secret_access_key: 'secret-1',
        s3_session_token: '',
        s3_region: '',
        s3_bucket_lookup: 'path',
        s3_ca: PEM,
        s3_storage_class: '',
      },
      body: {
        id: 'media',
        plan: 'starter',
        repository: {
          location: 's3:https://127.0.0.1:9000/bucket/coffer',
          s3: {
            access_key_id: 'AKIA1',
            secret_access_key: 'secret-1',
            bucket_lookup: 'path',
            ca: PEM.trim(),
          },
        },
      },
    },
  ]
  it.each(cases)('sends $name', ({ fields, body }) => {
    expect(projectBody(form(fields))).toEqual(body)
  })

  it('asks for the secrets in password fields and offers the bucket lookups', () => {
    const html = renderToStaticMarkup(<NewProjectForm onDone={() => undefined} />)
    expect(html).toContain('<form class="action-form" aria-label="New project">')
    expect(control(html, 's3_secret_access_key')).toContain('type="password"')
    expect(control(html, 's3_session_token')).toContain('type="password"')
    expect(control(html, 's3_access_key_id')).not.toContain('type=')
    for (const lookup of ['auto', 'path', 'dns'])
      expect(html).toContain(`<option value="${lookup}">`)
    expect(html).toContain('<textarea name="s3_ca"')
    expect(html).toContain('Storage class of data packs')
  })
})

describe('environment forms', () => {
  it('registers a database with the mode chosen, and no service without a URL', () => {
    const url = 'mysql://root@127.0.0.1:3306/shop'
    expect(
      environmentBody(
        form({
          name: 'develop',
          type: 'integration',
          mounts: 'pub/media=/srv/m',
          mysql: url,
          mode: 'physical',
        }),
      ),
    ).toEqual({
      name: 'develop',
      type: 'integration',
      mounts: [{ name: 'pub/media', path: '/srv/m' }],
      services: [{ name: 'mysql', kind: 'mysql', url, mode: 'physical' }],
    })
    expect(
      environmentBody(
        form({ name: 'develop', type: 'integration', mounts: '/srv/m', mode: 'auto' }),
      ),
    ).toEqual({
      name: 'develop',
      type: 'integration',
      mounts: [{ name: 'srv/m', path: '/srv/m' }],
    })
    const html = renderToStaticMarkup(
      <NewEnvironmentForm project="shop" onDone={() => undefined} />,
    )
    expect(html).toMatch(/Database mode<select name="mode">/)
    expect(html).toContain('<option value="logical" selected="">')
    expect(html).toContain('<option value="physical">')
    expect(html).toContain('<option value="auto">')
  })

  const env = environment({
    services: [
      { name: 'mysql', kind: 'mysql', url: 'mysql://shop@db1:3306/shop', mode: 'physical' },
      { name: 'logs', kind: 'mysql', url: 'mysql://logs@db2:3306/logs', mode: 'logical' },
    ],
  })

  it('changes the databases as a whole: every URL typed again, each with its mode', () => {
    const html = renderToStaticMarkup(
      <EnvironmentDatabasesForm project="shop" environment={env} onDone={() => undefined} />,
    )
    expect(html).toContain('<summary>Change the databases of develop</summary>')
    // The shown URL (without its password) is a hint only: sending it back would drop the password.
    expect(control(html, 'url:mysql')).toContain('required=""')
    expect(control(html, 'url:mysql')).toContain('placeholder="mysql://shop@db1:3306/shop"')
    expect(html).not.toContain('value="mysql:')
    expect(html).toMatch(/<select name="mode:mysql">.*<option value="physical" selected="">/)
    expect(html).toMatch(/<select name="mode:logs"><option value="logical" selected="">/)
    expect(
      servicesPatch(
        env,
        form({
          'url:mysql': 'mysql://shop:pw@db1:3306/shop',
          'mode:mysql': 'auto',
          'url:logs': 'mysql://logs:pw@db2:3306/logs',
          'mode:logs': 'logical',
        }),
      ),
    ).toEqual({
      services: [
        { name: 'mysql', kind: 'mysql', url: 'mysql://shop:pw@db1:3306/shop', mode: 'auto' },
        { name: 'logs', kind: 'mysql', url: 'mysql://logs:pw@db2:3306/logs', mode: 'logical' },
      ],
    })
  })

  it('shows each service with its mode', () => {
    const html = renderToStaticMarkup(<ServiceList services={env.services} />)
    expect(html).toContain('<code>mysql://shop@db1:3306/shop</code>')
    expect(html).toMatch(
      /<span class="badge mode-physical" title="physical: [^"]+">physical<\/span>/,
    )
    expect(html).toMatch(/<span class="badge mode-logical" title="logical: [^"]+">logical<\/span>/)
    expect(renderToStaticMarkup(<ServiceList services={[]} />)).toBe('—')
  })
})

import { describe, expect, it } from 'vitest'
import { homeRedirect, href, parseRoute } from '../../../web/src/route.js'

describe('routes', () => {
  it('reads back every address it writes', () => {
    const routes = [
      { page: 'home' },
      { page: 'home', project: 'shop/eu' },
      { page: 'backups', project: 'shop', environment: 'feature/ä x' },
      { page: 'activities', project: 'shop', environment: 'develop', activity: 'a1' },
      { page: 'activities', project: 'shop', environment: 'develop' },
      { page: 'insights', project: 'shop', environment: 'develop' },
      { page: 'project-settings', project: 'shop' },
      { page: 'users' },
      { page: 'projects' },
      { page: 'repository' },
    ] as const
    for (const r of routes) expect(parseRoute(href(r))).toEqual(r)
  })

  it('leads the home page to the first environment of the project', () => {
    const envs = [{ name: 'production' }, { name: 'staging' }]
    expect(homeRedirect('#/', 'pro', envs)).toEqual({
      page: 'backups',
      project: 'pro',
      environment: 'production',
    })
    expect(homeRedirect('', 'pro', envs)).toMatchObject({ environment: 'production' })
    expect(homeRedirect('#/projects/pro', 'pro', envs)).toMatchObject({ project: 'pro' })
    expect(homeRedirect('#/', 'pro', [])).toBeUndefined()
  })

  it('does not redirect once the address has moved on before the environments arrived', () => {
    // The console asked for the first project's environments on the home page; the user
    // (or a test) opened another environment before they came back.
    const envs = [{ name: 'production' }]
    expect(
      homeRedirect('#/projects/shop/environments/develop/backups', 'pro', envs),
    ).toBeUndefined()
    expect(homeRedirect('#/projects/shop', 'pro', envs)).toBeUndefined()
    expect(homeRedirect('#/admin/users', 'pro', envs)).toBeUndefined()
  })
})

import { useEffect, useState } from 'react'

/** The console's pages, addressed by the URL fragment (so the server serves one index.html). */
export type Route =
  | { readonly page: 'home'; readonly project?: string }
  | { readonly page: 'backups'; readonly project: string; readonly environment: string }
  | {
      readonly page: 'activities'
      readonly project: string
      readonly environment: string
      readonly activity?: string
    }
  | { readonly page: 'insights'; readonly project: string; readonly environment: string }
  | { readonly page: 'project-settings'; readonly project: string }
  | { readonly page: 'users' }
  | { readonly page: 'projects' }
  | { readonly page: 'repository' }

const dec = decodeURIComponent

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean)
  const [a, b, c, d, e, f] = parts
  if (a === 'projects' && b && c === 'environments' && d) {
    const project = dec(b)
    const environment = dec(d)
    if (e === 'activities')
      return { page: 'activities', project, environment, ...(f ? { activity: dec(f) } : {}) }
    if (e === 'insights') return { page: 'insights', project, environment }
    return { page: 'backups', project, environment }
  }
  if (a === 'projects' && b && c === 'settings')
    return { page: 'project-settings', project: dec(b) }
  if (a === 'projects' && b && !c) return { page: 'home', project: dec(b) }
  if (a === 'admin' && b === 'users') return { page: 'users' }
  if (a === 'admin' && b === 'projects') return { page: 'projects' }
  if (a === 'admin' && b === 'repository') return { page: 'repository' }
  return { page: 'home' }
}

const enc = encodeURIComponent

export function href(r: Route): string {
  switch (r.page) {
    case 'home':
      return r.project ? `#/projects/${enc(r.project)}` : '#/'
    case 'backups':
      return `#/projects/${enc(r.project)}/environments/${enc(r.environment)}/backups`
    case 'activities':
      return (
        `#/projects/${enc(r.project)}/environments/${enc(r.environment)}/activities` +
        (r.activity ? `/${enc(r.activity)}` : '')
      )
    case 'insights':
      return `#/projects/${enc(r.project)}/environments/${enc(r.environment)}/insights`
    case 'project-settings':
      return `#/projects/${enc(r.project)}/settings`
    case 'users':
      return '#/admin/users'
    case 'projects':
      return '#/admin/projects'
    case 'repository':
      return '#/admin/repository'
    default:
      return r satisfies never
  }
}

export function navigate(r: Route): void {
  window.location.hash = href(r)
}

/** Goes to `r` in place of the current page (no history entry): for a redirect nobody asked for. */
export function redirect(r: Route): void {
  window.location.replace(href(r))
}

/**
 * Where the home page leads once a project's environments are known: its first environment.
 * `hash` is the address as it is now, not as it was when the environments were asked for:
 * if the user followed a link or typed an address meanwhile, that wins and there is no
 * redirect.
 */
export function homeRedirect(
  hash: string,
  project: string,
  environments: readonly { readonly name: string }[],
): Route | undefined {
  const now = parseRoute(hash)
  if (now.page !== 'home' || (now.project !== undefined && now.project !== project)) return
  const first = environments[0]
  return first && { page: 'backups', project, environment: first.name }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/**
 * The URL to start a worker thread from. Built code runs `<name>.js` beside this module.
 * From TypeScript sources (tests, `tsx`), Node 20 does not apply the parent's `--import tsx`
 * loader to worker threads, so the worker starts from a small bootstrap that registers
 * tsx's loader first and then imports `<name>.ts`. tsx is a development dependency: only
 * source runs need it.
 */
export function workerEntry(name: string, base: string): URL {
  if (!base.endsWith('.ts')) return new URL(`./${name}.js`, base)
  const require = createRequire(base)
  const api = pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href
  const target = new URL(`./${name}.ts`, base).href
  const code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(target)});`
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`)
}

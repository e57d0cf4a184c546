import { createContext, useCallback, useContext, useEffect, useState } from 'react'
import { ApiClient, errorMessage } from './api-client.js'

export const ApiContext = createContext<ApiClient>(new ApiClient())

export function useApi(): ApiClient {
  return useContext(ApiContext)
}

/** What a list or a page shows while its data loads, when it failed, and once it is there. */
export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'error'; readonly message: string }
  | { readonly state: 'ready'; readonly data: T }

/**
 * Loads data for a view and reloads it on `reload()` or when `key` changes. A reload keeps
 * showing the previous data (no flash of "Loading…" after each action).
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
): [Loaded<T>, () => void] {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' })
  const [tick, setTick] = useState(0)
  const [loadedKey, setLoadedKey] = useState(key)
  if (loadedKey !== key) {
    setLoadedKey(key)
    setValue({ state: 'loading' })
  }
  useEffect(() => {
    const ctl = new AbortController()
    load(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setValue({ state: 'ready', data })
      },
      (e: unknown) => {
        if (!ctl.signal.aborted) setValue({ state: 'error', message: errorMessage(e) })
      },
    )
    return () => ctl.abort()
    // `load` is a fresh closure each render; `key` names what it loads.
  }, [key, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return [value, reload]
}

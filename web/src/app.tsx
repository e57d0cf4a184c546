import { useEffect, useState } from 'react'
import { errorMessage } from './api-client.js'
import type { User } from './api-types.js'
import { Shell } from './shell.js'
import { SignIn } from './sign-in.js'
import { useApi } from './use-load.js'

type Session =
  | { readonly state: 'checking' }
  | { readonly state: 'out' }
  | { readonly state: 'in'; readonly user: User }
  | { readonly state: 'error'; readonly message: string }

/** The console: the sign-in form until a session exists, then the shell. */
export function App() {
  const api = useApi()
  const [session, setSession] = useState<Session>({ state: 'checking' })

  useEffect(() => {
    api.me().then(
      (me) => setSession(me ? { state: 'in', user: me.user } : { state: 'out' }),
      (e: unknown) => setSession({ state: 'error', message: errorMessage(e) }),
    )
  }, [api])

  switch (session.state) {
    case 'checking':
      return (
        <p className="loading" role="status">
          Loading…
        </p>
      )
    case 'error':
      return (
        <p className="error page-error" role="alert">
          {session.message}
        </p>
      )
    case 'out':
      return <SignIn onSignedIn={(user) => setSession({ state: 'in', user })} />
    case 'in':
      return (
        <Shell
          user={session.user}
          onSignOut={() => {
            api.logout().then(
              () => setSession({ state: 'out' }),
              () => setSession({ state: 'out' }),
            )
          }}
        />
      )
    default:
      return session satisfies never
  }
}

import { useState, type FormEvent } from 'react'
import { errorMessage } from './api-client.js'
import type { User } from './api-types.js'
import { useApi } from './use-load.js'

/** The sign-in form: user name and password; the API's refusal is shown as it words it. */
export function SignIn({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const api = useApi()
  const [user, setUser] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const r = await api.login(user, password)
      onSignedIn(r.user)
    } catch (err) {
      setError(errorMessage(err))
      setBusy(false)
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          <span className="brand-mark" aria-hidden="true" /> Sign in to Coffer
        </h1>
        <label>
          User name
          <input
            name="user"
            autoComplete="username"
            required
            value={user}
            onChange={(e) => setUser(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}

import { useState, type FormEvent, type ReactNode } from 'react'
import { errorMessage } from '../api-client.js'

/**
 * A form that runs one API call on submit, shows the API's message when it fails, and
 * calls `onDone` when it succeeds.
 */
export function ActionForm({
  label,
  submit,
  action,
  onDone,
  children,
}: {
  label: string
  submit: string
  action: (data: FormData) => Promise<unknown>
  onDone: () => void
  children: ReactNode
}) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault()
    const form = e.currentTarget
    setBusy(true)
    setError(undefined)
    action(new FormData(form)).then(
      () => {
        setBusy(false)
        form.reset()
        onDone()
      },
      (err: unknown) => {
        setBusy(false)
        setError(errorMessage(err))
      },
    )
  }
  return (
    <form className="action-form" aria-label={label} onSubmit={onSubmit}>
      <fieldset disabled={busy}>
        <legend>{label}</legend>
        {children}
        <button type="submit" className="primary">
          {submit}
        </button>
      </fieldset>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

/** A button that runs one API call, with the API's message on failure. */
export function ActionButton({
  label,
  action,
  onDone,
  danger,
  describedBy,
}: {
  label: string
  action: () => Promise<unknown>
  onDone: () => void
  danger?: boolean
  describedBy?: string
}) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  return (
    <span className="action-button">
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        disabled={busy}
        aria-describedby={describedBy}
        onClick={() => {
          setBusy(true)
          setError(undefined)
          action().then(
            () => {
              setBusy(false)
              onDone()
            },
            (e: unknown) => {
              setBusy(false)
              setError(errorMessage(e))
            },
          )
        }}
      >
        {label}
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </span>
  )
}

export function text(data: FormData, name: string): string {
  const v = data.get(name)
  return typeof v === 'string' ? v.trim() : ''
}

import { DATABASE_MODES, type DatabaseMode } from '../api-types.js'
import { MODE_TEXT } from './service-list.js'

/** A select of the database modes, labelled, with `name` for the form's data. */
export function ModeSelect({
  name,
  label,
  defaultValue = 'logical',
}: {
  name: string
  label: string
  defaultValue?: DatabaseMode
}) {
  return (
    <label>
      {label}
      <select name={name} defaultValue={defaultValue}>
        {DATABASE_MODES.map((m) => (
          <option key={m} value={m}>
            {MODE_TEXT[m]}
          </option>
        ))}
      </select>
    </label>
  )
}

/** A mode read back from a form: one of the list (the select offers nothing else). */
export function modeOf(value: string): DatabaseMode {
  return DATABASE_MODES.find((m) => m === value) ?? 'logical'
}

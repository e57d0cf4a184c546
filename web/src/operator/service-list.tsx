import type { DatabaseMode, Service } from '../api-types.js'

/** The mode in words, for the badge's tooltip and for screen readers (docs/PHYSICAL.md). */
export const MODE_TEXT: Record<DatabaseMode, string> = {
  logical: 'logical: rows, from any server',
  physical: 'physical: tablespace files, from the server’s data directory',
  auto: 'auto: physical where this host reaches the data directory, else logical',
}

/** An environment's database services: each URL (never its password) and its capture mode. */
export function ServiceList({ services }: { services: readonly Service[] }) {
  if (services.length === 0) return <>—</>
  return (
    <ul className="plain services">
      {services.map((s) => (
        <li key={s.name}>
          <code>{s.url}</code>{' '}
          <span className={`badge mode-${s.mode}`} title={MODE_TEXT[s.mode]}>
            {s.mode}
          </span>
        </li>
      ))}
    </ul>
  )
}

import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'

export interface MenuItem {
  readonly label: string
  readonly onSelect: () => void
  /** Why the item cannot be used; the item is then shown disabled with this as its description. */
  readonly disabledReason?: string
  readonly danger?: boolean
}

/**
 * A "More" button opening a menu (WAI-ARIA menu button pattern): arrows move, Escape closes
 * and gives the focus back to the button, a click outside closes.
 */
export function MoreMenu({ label, items }: { label: string; items: readonly MenuItem[] }) {
  const [open, setOpen] = useState(false)
  const button = useRef<HTMLButtonElement>(null)
  const menu = useRef<HTMLUListElement>(null)
  const id = useId()

  useEffect(() => {
    if (!open) return
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus()
    const onDown = (e: MouseEvent): void => {
      const t = e.target as Node
      if (!menu.current?.contains(t) && !button.current?.contains(t)) setOpen(false)
    }
    document.addEventListener('mousedown', onDown)
    return () => document.removeEventListener('mousedown', onDown)
  }, [open])

  const onKey = (e: KeyboardEvent): void => {
    const all = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])]
    const i = all.indexOf(document.activeElement as HTMLElement)
    if (e.key === 'Escape' || e.key === 'Tab') {
      setOpen(false)
      if (e.key === 'Escape') button.current?.focus()
    } else if (e.key === 'ArrowDown') {
      e.preventDefault()
      all[(i + 1) % all.length]?.focus()
    } else if (e.key === 'ArrowUp') {
      e.preventDefault()
      all[(i - 1 + all.length) % all.length]?.focus()
    }
  }

  return (
    <div className="more">
      <button
        ref={button}
        type="button"
        className="more-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-label={label}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault()
            setOpen(true)
          }
        }}
      >
        More <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <ul ref={menu} id={id} role="menu" aria-label={label} className="menu" onKeyDown={onKey}>
          {items.map((item) => (
            <li key={item.label} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                className={item.danger ? 'danger' : undefined}
                aria-disabled={item.disabledReason ? true : undefined}
                title={item.disabledReason}
                onClick={() => {
                  if (item.disabledReason) return
                  setOpen(false)
                  item.onSelect()
                }}
              >
                {item.label}
                {item.disabledReason && <span className="menu-reason">{item.disabledReason}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

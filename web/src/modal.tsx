import { useEffect, useRef, type ReactNode } from 'react'

/**
 * A modal dialog on the native <dialog>: the browser keeps the focus inside and closes it with
 * Escape; on close the focus goes back to what opened it.
 */
export function Modal({
  title,
  onClose,
  children,
  className,
}: {
  title: string
  onClose: () => void
  children: ReactNode
  className?: string
}) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null
    const d = ref.current
    if (d && !d.open) d.showModal()
    return () => {
      d?.close()
      opener?.focus()
    }
  }, [])
  return (
    <dialog
      ref={ref}
      className={className ? `modal ${className}` : 'modal'}
      aria-labelledby="modal-title"
      onCancel={(e) => {
        e.preventDefault()
        onClose()
      }}
    >
      <h2 id="modal-title">{title}</h2>
      {children}
    </dialog>
  )
}

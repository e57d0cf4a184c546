/** How long a manual snapshot stays restorable (PRODUCT.md: seven days), a policy setting. */
export const DEFAULT_RESTORE_WINDOW_MS = 7 * 24 * 3_600_000

/**
 * Whether a snapshot may still be restored. Manual snapshots expire after the window (and
 * their data is then forgotten by the expiry step); automatic backups stay restorable while
 * the thinning policy keeps them.
 */
export function isRestorable(
  s: { readonly createdAt: Date; readonly automated: boolean },
  now: Date,
  windowMs = DEFAULT_RESTORE_WINDOW_MS,
): boolean {
  if (s.automated) return true
  return now.getTime() - s.createdAt.getTime() <= windowMs
}

/** When a manual snapshot stops being restorable; automatic ones have no fixed end. */
export function expiresAt(
  s: { readonly createdAt: Date; readonly automated: boolean },
  windowMs = DEFAULT_RESTORE_WINDOW_MS,
): Date | undefined {
  return s.automated ? undefined : new Date(s.createdAt.getTime() + windowMs)
}

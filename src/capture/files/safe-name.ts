/**
 * Whether a node name from a snapshot may be used as one path component: not empty, not
 * `.` or `..`, no `/` and no NUL. A snapshot is data from storage that may have been
 * tampered with: a name failing this would write outside the restore target.
 */
export function isSafeName(name: Uint8Array): boolean {
  if (name.length === 0) return false
  if (name.length === 1 && name[0] === 0x2e) return false
  if (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e) return false
  return !name.includes(0x2f) && !name.includes(0)
}

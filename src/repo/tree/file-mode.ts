/**
 * restic stores a node's `mode` as Go's `fs.FileMode`, not as a POSIX st_mode: permission
 * bits plus Go's own type and flag bits (design.rst, "Trees and Data", masked by
 * ModePerm | ModeType | ModeSetuid | ModeSetgid | ModeSticky). Go's io/fs defines them as
 * the top bits of a uint32.
 */
export const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
  irregular: 2 ** 19,
} as const

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
const S_IFBLK = 0o060000
const S_IFCHR = 0o020000
const S_IFIFO = 0o010000
const S_IFSOCK = 0o140000

/** Go FileMode (as restic stores it) from a POSIX st_mode. */
export function goModeFromPosix(mode: number): number {
  let m = mode & 0o777
  if (mode & 0o4000) m += GO_MODE.setuid
  if (mode & 0o2000) m += GO_MODE.setgid
  if (mode & 0o1000) m += GO_MODE.sticky
  switch (mode & S_IFMT) {
    case S_IFDIR:
      m += GO_MODE.dir
      break
    case S_IFLNK:
      m += GO_MODE.symlink
      break
    case S_IFBLK:
      m += GO_MODE.device
      break
    case S_IFCHR:
      m += GO_MODE.device + GO_MODE.charDevice
      break
    case S_IFIFO:
      m += GO_MODE.namedPipe
      break
    case S_IFSOCK:
      m += GO_MODE.socket
      break
  }
  return m
}

/** The POSIX permission bits (including setuid, setgid, sticky) of a Go FileMode. */
export function posixPermFromGo(goMode: number): number {
  // Go mode values reach 2^31 and beyond: use arithmetic, not 32-bit bitwise ops, for flags.
  let m = goMode % 0o1000
  const flags = Math.floor(goMode / 2 ** 19)
  if (flags & (GO_MODE.setuid / 2 ** 19)) m |= 0o4000
  if (flags & (GO_MODE.setgid / 2 ** 19)) m |= 0o2000
  if (flags & (GO_MODE.sticky / 2 ** 19)) m |= 0o1000
  return m
}

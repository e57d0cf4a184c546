import { readFileSync } from 'node:fs'

/**
 * User and group names for uids and gids, from /etc/passwd and /etc/group (what Go's
 * os/user does without cgo, and what restic records as a node's `user` and `group`). Read
 * once per process; unknown IDs map to "".
 */
let users: Map<number, string> | undefined
let groups: Map<number, string> | undefined
let usersByName: Map<string, number> | undefined
let groupsByName: Map<string, number> | undefined

function parse(file: string): Map<number, string> {
  const map = new Map<number, string>()
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return map
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const f = line.split(':')
    const id = Number(f[2])
    if (f[0] && Number.isInteger(id) && !map.has(id)) map.set(id, f[0])
  }
  return map
}

function invert(m: Map<number, string>): Map<string, number> {
  return new Map([...m].map(([id, name]) => [name, id]))
}

export function userName(uid: number): string {
  users ??= parse('/etc/passwd')
  return users.get(uid) ?? ''
}

export function groupName(gid: number): string {
  groups ??= parse('/etc/group')
  return groups.get(gid) ?? ''
}

/** The local uid of a user name, if the name exists here. */
export function uidOf(name: string): number | undefined {
  users ??= parse('/etc/passwd')
  usersByName ??= invert(users)
  return usersByName.get(name)
}

export function gidOf(name: string): number | undefined {
  groups ??= parse('/etc/group')
  groupsByName ??= invert(groups)
  return groupsByName.get(name)
}

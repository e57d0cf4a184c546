import type { CommandRunner } from './command-table.js'
import { openRepo, parseKdf, readPassword } from '../repo-tools/repo-context.js'
import { out } from '../output.js'
import { CofferError, InvalidInputError, NotFoundError } from '../../errors.js'
import { addKeyFile, DEFAULT_KDF, parseKeyFile, shortId } from '../../repo/index.js'

export const list: CommandRunner = async (cmd) => {
  const o = cmd.opts<{ json?: boolean }>()
  const repo = await openRepo(cmd)
  const rows: {
    current: boolean
    id: string
    userName: string
    hostName: string
    created: string
  }[] = []
  for await (const f of repo.backend.list('keys')) {
    const k = parseKeyFile(await repo.backend.load({ type: 'keys', name: f.name }))
    rows.push({
      current: f.name === repo.keyId,
      id: f.name,
      userName: k.username,
      hostName: k.hostname,
      created: k.created,
    })
  }
  rows.sort((a, b) => a.created.localeCompare(b.created))
  if (o.json) {
    out(JSON.stringify(rows))
    return
  }
  out(' ID        User        Host          Created')
  out('-----------------------------------------------------')
  for (const r of rows)
    out(
      `${r.current ? '*' : ' '}${shortId(r.id)}  ${r.userName.padEnd(10)}  ${r.hostName.padEnd(12)}  ${r.created}`,
    )
}

export const add: CommandRunner = async (cmd) => {
  const o = cmd.opts<{ newPasswordFile?: string; kdf?: string }>()
  const repo = await openRepo(cmd)
  const password = await readPassword(o.newPasswordFile, 'COFFER_NEW_PASSWORD')
  if (password === '')
    throw new InvalidInputError('new-password-file', 'The new password is empty.')
  const id = await addKeyFile(repo.backend, repo.key, password, parseKdf(o.kdf) ?? DEFAULT_KDF)
  out(`saved new key as ${shortId(id)}`)
}

export const remove: CommandRunner = async (cmd, args) => {
  const [ref] = args as [string]
  const repo = await openRepo(cmd)
  const ids: string[] = []
  for await (const f of repo.backend.list('keys')) if (f.name.startsWith(ref)) ids.push(f.name)
  if (ids.length === 0) throw new NotFoundError(`No key ${ref} in the repository.`)
  if (ids.length > 1) throw new InvalidInputError('key', `The key ID prefix ${ref} is ambiguous.`)
  if (ids[0] === repo.keyId)
    throw new CofferError(
      'refused',
      'Refusing to remove the key that was used to open the repository.',
    )
  const lock = await repo.lock(true)
  try {
    await repo.backend.remove({ type: 'keys', name: ids[0]! })
  } finally {
    await lock.release()
  }
  out(`removed key ${shortId(ids[0]!)}`)
}

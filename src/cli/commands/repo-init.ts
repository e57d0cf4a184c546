import type { CommandRunner } from './command-table.js'
import { openBackend, parseKdf, readPassword, repoLocation } from '../repo-tools/repo-context.js'
import { out } from '../output.js'
import { DEFAULT_KDF, Repository } from '../../repo/index.js'
import { InvalidInputError } from '../../errors.js'

export const run: CommandRunner = async (cmd) => {
  const o = cmd.opts<{
    repositoryVersion: string
    kdf?: string
    passwordFile?: string
    json?: boolean
  }>()
  const version = Number(o.repositoryVersion)
  if (version !== 1 && version !== 2) {
    throw new InvalidInputError('repository-version', 'The repository version must be 1 or 2.')
  }
  const location = repoLocation(cmd)
  const password = await readPassword(o.passwordFile)
  const repo = await Repository.init({
    backend: await openBackend(location),
    password,
    version,
    kdf: parseKdf(o.kdf) ?? DEFAULT_KDF,
  })
  if (o.json) {
    out(JSON.stringify({ message_type: 'initialized', id: repo.config.id, repository: location }))
    return
  }
  out(`created coffer repository ${repo.config.id.slice(0, 10)} at ${location}\n`)
  out('Please note that knowledge of your password is required to access the repository.')
  out('Losing your password means that your data is irrecoverably lost.')
}

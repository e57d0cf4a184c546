import { once } from 'node:events'
import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { InvalidInputError, NotFoundError } from '../../errors.js'
import { RepoReader, shortId, treePath } from '../../repo/index.js'

export const run: CommandRunner = async (cmd, args) => {
  const [ref, file] = args as [string, string]
  const o = cmd.opts<{ host?: string[]; tag?: string[]; path?: string[] }>()
  const repo = await openRepo(cmd)
  const reader = await RepoReader.open(repo)
  const snap = await reader.findSnapshot(ref, {
    hosts: o.host ?? [],
    tags: o.tag ?? [],
    paths: o.path ?? [],
  })
  const node = await reader.lookup(snap.tree, treePath(file))
  if (!node) throw new NotFoundError(`No ${file} in snapshot ${shortId(snap.id)}.`)
  if (node.type !== 'file')
    throw new InvalidInputError(
      'file',
      `${file} is a ${node.type}, not a file: repo:dump writes one file's content.`,
    )
  for await (const buf of reader.readContent(node.content ?? [])) {
    if (!process.stdout.write(buf)) await once(process.stdout, 'drain')
  }
}

import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { addRepoOptions } from '../repo-tools/repo-options.js'
import { CLIENT_COMMANDS } from './client-commands.js'

/** Runs a parsed command: `cmd` gives its options, `args` the positional arguments. */
export type CommandRunner = (cmd: Command, args: unknown[]) => Promise<void>

export interface CommandSpec {
  readonly name: string
  readonly aliases?: readonly string[]
  readonly summary: string
  /** Its heading in `coffer list` when not the part of the name before ':'. */
  readonly group?: string
  /**
   * Opens a repository with a password (repo:* but init): its key's derivation starts before
   * the command's code loads (repo-tools/key-prefetch.ts).
   */
  readonly opensRepository?: boolean
  readonly configure: (cmd: Command) => void
  readonly load: () => Promise<CommandRunner>
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

/** `$XDG_DATA_HOME/coffer`, default `~/.local/share/coffer`. */
function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'coffer')
}

/** --host/--tag/--path filters for commands that pick snapshots. */
function filters(cmd: Command): Command {
  return cmd
    .option('--host <host>', 'only snapshots of this host (repeatable)', collect)
    .option('--tag <tags>', 'only snapshots with these comma-separated tags (repeatable)', collect)
    .option('--path <path>', 'only snapshots of this path (repeatable)', collect)
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    group: 'server',
    summary: 'run the server: API, console, scheduler and a worker',
    configure: (c) =>
      c
        .option('--data-dir <dir>', 'metadata, master key and repositories', defaultDataDir())
        .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
        .option('--store <url>', 'PostgreSQL URL for the metadata (default: SQLite in --data-dir)')
        .option('--store-schema <name>', 'PostgreSQL schema of the metadata', 'public')
        .option(
          '--repos <location>',
          'where new projects get their repository: a directory or s3:https://host/bucket[/prefix] (default DIR/repos)',
        )
        .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
        .option('--tls-key <file>', 'and this private key (PEM)')
        .option('--concurrency <n>', 'activities run at once by this process', '2')
        .option(
          '--label <label>',
          'also run activities of environments with this label (repeatable)',
          collect,
        )
        .option('--no-worker', 'run no activities here (workers do)')
        .option(
          '--worker-in-process',
          "run activities on the server's own thread, not in a child `coffer worker` process",
        )
        .option(
          '--worker-nice <n>',
          "how much lower the child worker's CPU priority is (nice increment, 0-19)",
          '10',
        )
        .option('--console-dir <dir>', 'the built web console to serve at /')
        .option('--log-level <level>', 'debug, info, warn or error', 'info'),
    load: async () => (await import('./serve.js')).run,
  },
  {
    name: 'demo:start',
    group: 'server',
    summary: 'run `coffer serve` with the console and, on a new install, a demo (npm start)',
    configure: (c) =>
      c
        .option('--data-dir <dir>', 'metadata, master key and repositories', defaultDataDir())
        .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
        .option('--console-dir <dir>', 'the built web console to serve at / (default: web/dist)')
        .option('--no-demo', 'do not create the demo projects')
        .option('--log-level <level>', 'debug, info, warn or error', 'warn'),
    load: async () => (await import('./demo-start.js')).run,
  },
  {
    name: 'demo:remove',
    group: 'server',
    summary: 'remove the demo projects, databases and files (stop Coffer first)',
    configure: (c) =>
      c.option('--data-dir <dir>', 'the data directory of the demo', defaultDataDir()),
    load: async () => (await import('./demo-remove.js')).run,
  },
  {
    name: 'worker',
    group: 'server',
    summary:
      'run activities from the queue `coffer serve` shares (PostgreSQL, or SQLite on its host)',
    configure: (c) =>
      c
        .option(
          '--store <url>',
          'the PostgreSQL URL `coffer serve` uses (default: SQLite in --data-dir)',
        )
        .option('--store-schema <name>', 'PostgreSQL schema of the metadata', 'public')
        .option(
          '--data-dir <dir>',
          'the master key file (or set COFFER_MASTER_KEY), and the SQLite metadata without --store',
          defaultDataDir(),
        )
        .option(
          '--repos <location>',
          'where new projects get their repository (as for coffer serve; default DIR/repos)',
        )
        .option(
          '--label <label>',
          'run activities of environments with this label (repeatable)',
          collect,
        )
        .option(
          '--unlabelled',
          'also run activities of unlabelled environments (the default without --label)',
        )
        .option('--concurrency <n>', 'activities run at once by this worker', '2')
        .option('--log-level <level>', 'debug, info, warn or error', 'info'),
    load: async () => (await import('./worker.js')).run,
  },
  {
    name: 'repo:init',
    summary: 'create a new repository (restic format, version 2 by default)',
    configure: (c) =>
      addRepoOptions(c)
        .option('--repository-version <n>', 'format version: 2 (compressed) or 1', '2')
        .option('--kdf <N,r,p>', 'scrypt parameters for the key (default 32768,8,1)')
        .option('--json', 'print a machine-readable result'),
    load: async () => (await import('./repo-init.js')).run,
  },
  {
    name: 'repo:backup',
    opensRepository: true,
    summary: 'back up files, directories and MySQL/MariaDB databases into a new snapshot',
    configure: (c) =>
      addRepoOptions(c)
        .argument('[path...]', 'files or directories to back up (optional with --mysql)')
        .option(
          '--mysql <url>',
          'also capture a MySQL/MariaDB server: mysql://user:password@host:port/db1,db2 (repeatable; services mysql, mysql2… or ?service=NAME)',
          collect,
        )
        .option('--live', 'with --mysql: no global read lock, one consistent transaction')
        .option('--tag <tag>', 'tag the snapshot (repeatable)', collect)
        .option('--host <host>', 'hostname recorded in the snapshot (default: this host)')
        .option(
          '--parent <snapshot>',
          'compare with this snapshot instead of the latest of the same paths',
        )
        .option('--force', 'read every file, ignoring the parent snapshot')
        .option('--json', 'print a machine-readable summary'),
    load: async () => (await import('./repo-backup.js')).run,
  },
  {
    name: 'repo:snapshots',
    opensRepository: true,
    summary: 'list snapshots',
    configure: (c) => filters(addRepoOptions(c)).option('--json', 'print JSON'),
    load: async () => (await import('./repo-snapshots.js')).run,
  },
  {
    name: 'repo:ls',
    opensRepository: true,
    summary: 'list the files of a snapshot',
    configure: (c) =>
      filters(addRepoOptions(c))
        .argument('<snapshot>', 'snapshot ID, unique prefix, or "latest"')
        .argument('[dir]', 'only this directory of the snapshot')
        .option('--json', 'print one JSON object per line'),
    load: async () => (await import('./repo-ls.js')).run,
  },
  {
    name: 'repo:restore',
    opensRepository: true,
    summary: 'restore a snapshot into a directory and/or MySQL/MariaDB servers',
    configure: (c) =>
      filters(addRepoOptions(c))
        .argument(
          '<snapshot>',
          'snapshot ID, unique prefix, or "latest" (SNAPSHOT:subfolder restores a folder)',
        )
        .option('-t, --target <dir>', 'directory to restore into')
        .option(
          '-i, --include <path>',
          'restore only this path, or /services/<service>/DB[/TABLE] with --mysql (repeatable)',
          collect,
        )
        .option(
          '--mysql <url>',
          "restore the snapshot's MySQL service into this server (repeatable, as for repo:backup)",
          collect,
        )
        .option(
          '--database-map <old=new>',
          'with --mysql: restore database OLD under the name NEW (repeatable)',
          collect,
        )
        .option(
          '--delta',
          'make the target exactly the snapshot: stage new and changed files, then switch them in; files already identical are not rewritten, files the snapshot lacks are removed',
        )
        .option(
          '--verify-content',
          'with --delta: compare files by content hash, not by size and mtime (implies --delta)',
        )
        .option(
          '--switch <mode>',
          'with --delta: whole (rename the target directory), per-file, or auto (default)',
        )
        .option('--min-free <bytes>', 'with --delta: refuse unless this many bytes stay free')
        .option('--json', 'print a machine-readable summary'),
    load: async () => (await import('./repo-restore.js')).run,
  },
  {
    name: 'repo:dump',
    opensRepository: true,
    summary: 'write one file of a snapshot to standard output',
    configure: (c) =>
      filters(addRepoOptions(c))
        .argument('<snapshot>', 'snapshot ID, unique prefix, or "latest"')
        .argument('<file>', 'path of the file inside the snapshot'),
    load: async () => (await import('./repo-dump.js')).run,
  },
  {
    name: 'repo:check',
    opensRepository: true,
    summary: 'check the repository for errors',
    configure: (c) =>
      addRepoOptions(c)
        .option('--read-data', 'also read and verify all data')
        .option('--json', 'print a machine-readable summary'),
    load: async () => (await import('./repo-check.js')).run,
  },
  {
    name: 'repo:forget',
    opensRepository: true,
    summary: 'remove snapshots by ID or by a keep policy',
    configure: (c) =>
      filters(addRepoOptions(c))
        .argument('[snapshot...]', 'snapshots to remove')
        .option('-l, --keep-last <n>', 'keep the last n snapshots')
        .option('-H, --keep-hourly <n>', 'keep the last n hourly snapshots')
        .option('-d, --keep-daily <n>', 'keep the last n daily snapshots')
        .option('-w, --keep-weekly <n>', 'keep the last n weekly snapshots')
        .option('-m, --keep-monthly <n>', 'keep the last n monthly snapshots')
        .option('-y, --keep-yearly <n>', 'keep the last n yearly snapshots')
        .option(
          '--keep-within <duration>',
          'keep snapshots newer than duration (e.g. 1y5m7d2h) before the latest',
        )
        .option('--keep-within-hourly <duration>', 'keep hourly snapshots within duration')
        .option('--keep-within-daily <duration>', 'keep daily snapshots within duration')
        .option('--keep-within-weekly <duration>', 'keep weekly snapshots within duration')
        .option('--keep-within-monthly <duration>', 'keep monthly snapshots within duration')
        .option('--keep-within-yearly <duration>', 'keep yearly snapshots within duration')
        .option(
          '--keep-tag <tags>',
          'keep snapshots with these comma-separated tags (repeatable)',
          collect,
        )
        .option(
          '-g, --group-by <fields>',
          'group snapshots by host, paths and/or tags',
          'host,paths',
        )
        .option('-n, --dry-run', 'show what would be removed')
        .option('--prune', 'prune the repository afterwards')
        .option('--max-unused <percent>', 'with --prune: tolerated unused space', '5')
        .option('--json', 'print JSON'),
    load: async () => (await import('./repo-forget.js')).run,
  },
  {
    name: 'repo:prune',
    opensRepository: true,
    summary: 'remove data no snapshot uses any more',
    configure: (c) =>
      addRepoOptions(c)
        .option('--max-unused <percent>', 'tolerated unused space, in percent of used space', '5')
        .option('-n, --dry-run', 'show what would be done')
        .option('--json', 'print a machine-readable summary'),
    load: async () => (await import('./repo-prune.js')).run,
  },
  {
    name: 'repo:key:list',
    opensRepository: true,
    summary: 'list the keys (passwords) of the repository',
    configure: (c) => addRepoOptions(c).option('--json', 'print JSON'),
    load: async () => (await import('./repo-key.js')).list,
  },
  {
    name: 'repo:key:add',
    opensRepository: true,
    summary: 'add a key (a new password) to the repository',
    configure: (c) =>
      addRepoOptions(c)
        .option('--new-password-file <file>', 'the new password (default: $COFFER_NEW_PASSWORD)')
        .option('--kdf <N,r,p>', 'scrypt parameters for the new key'),
    load: async () => (await import('./repo-key.js')).add,
  },
  {
    name: 'repo:key:remove',
    opensRepository: true,
    summary: 'remove a key from the repository',
    configure: (c) => addRepoOptions(c).argument('<id>', 'key ID or unique prefix'),
    load: async () => (await import('./repo-key.js')).remove,
  },
  {
    name: 'repo:unlock',
    opensRepository: true,
    summary: 'remove stale locks',
    configure: (c) => addRepoOptions(c).option('--remove-all', 'remove all locks, even live ones'),
    load: async () => (await import('./repo-unlock.js')).run,
  },
  ...CLIENT_COMMANDS,
]

import type { Command } from 'commander'
import type { CommandSpec } from './command-table.js'

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

/** -p/-e and the flags every client command has. */
function common(c: Command, opts: { env?: boolean; yes?: boolean } = {}): Command {
  c.option('-p, --project <project>', 'the project (default: from .coffer/config.yaml)')
  if (opts.env !== false)
    c.option('-e, --environment <environment>', 'the environment (default: the git branch)')
  c.option('-q, --quiet', 'print only the result')
    .option('-v, --verbose', 'say more')
    .option('--no-color', 'no colours or redrawn progress, even on a terminal')
  if (opts.yes) c.option('-y, --yes', 'answer yes to the confirmation (needed without a terminal)')
  return c
}

function listing(c: Command, dateFmt = true): Command {
  c.option('-c, --columns <columns>', 'columns to show, comma-separated (repeatable)', collect)
    .option('--format <format>', 'table, csv, tsv, plain or json', 'table')
    .option('--no-header', 'no header row')
  if (dateFmt)
    c.option('--date-fmt <format>', 'date format (PHP letters: Y m d H i s; c = ISO 8601)', 'c')
  return c
}

function single(c: Command): Command {
  return c
    .option('-P, --property <name>', 'print only this property')
    .option('--format <format>', 'table, csv, tsv, plain or json', 'table')
}

function waiting(c: Command): Command {
  return c.option('--no-wait', 'print the activity ID and return at once (for cron)')
}

const snap = async () => import('./client-snapshot.js')
const auth = async () => import('./client-auth.js')
const act = async () => import('./client-activity.js')
const proj = async () => import('./client-project.js')
const usr = async () => import('./client-user.js')

/** The commands that talk to a Coffer server through its REST API. */
export const CLIENT_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'auth:login',
    summary: 'sign in to a Coffer server and keep the session for the next commands',
    configure: (c) =>
      common(c, { env: false })
        .option('--url <url>', 'the server (default: $COFFER_URL or the last one)')
        .option('--user <name>', 'your user name')
        .option('--password-stdin', 'read the password from standard input'),
    load: async () => (await auth()).login,
  },
  {
    name: 'auth:logout',
    summary: 'sign out and forget the stored session',
    configure: (c) => common(c, { env: false }),
    load: async () => (await auth()).logout,
  },
  {
    name: 'auth:info',
    summary: 'show the server and the user you are signed in as',
    configure: (c) => single(common(c, { env: false })),
    load: async () => (await auth()).info,
  },
  {
    name: 'snapshot:create',
    aliases: ['backup', 'backup:create'],
    summary: 'take a snapshot of an environment (its databases and mounts)',
    configure: (c) =>
      waiting(common(c)).option('--live', 'no pause: the site keeps running during the capture'),
    load: async () => (await snap()).create,
  },
  {
    name: 'snapshot:list',
    aliases: ['snapshots', 'backups', 'backup:list'],
    summary: 'list the snapshots of an environment, newest first',
    configure: (c) => listing(common(c)),
    load: async () => (await snap()).list,
  },
  {
    name: 'snapshot:get',
    aliases: ['backup:get'],
    summary: 'show one snapshot',
    configure: (c) =>
      single(common(c))
        .argument('<id>', 'the snapshot ID')
        .option('--date-fmt <format>', 'date format', 'c'),
    load: async () => (await snap()).get,
  },
  {
    name: 'snapshot:delete',
    aliases: ['backup:delete'],
    summary: 'delete a snapshot and free its data',
    configure: (c) => waiting(common(c, { yes: true })).argument('<id>', 'the snapshot ID'),
    load: async () => (await snap()).remove,
  },
  {
    name: 'snapshot:restore',
    aliases: ['backup:restore'],
    summary: 'restore a snapshot (default: the newest restorable one) into an environment',
    configure: (c) =>
      waiting(common(c, { yes: true }))
        .argument('[id]', 'the snapshot ID (default: the newest restorable)')
        .option('--target <environment>', 'restore into this environment (default: its own)')
        .option(
          '--only <part>',
          'restore only: services, mounts, database:S/DB, table:S/DB/T, mount:NAME[:PATH] (repeatable)',
          collect,
        ),
    load: async () => (await snap()).restore,
  },
  {
    name: 'activity:list',
    aliases: ['activities'],
    summary: 'list the activities of a project or an environment, newest first',
    configure: (c) =>
      listing(common(c))
        .option('--type <type>', 'backup, restore, delete (or the full type name)')
        .option('--state <state>', 'pending, in_progress, complete or cancelled')
        .option('--limit <n>', 'how many', '10')
        .option('--all', 'every activity, page after page'),
    load: async () => (await act()).list,
  },
  {
    name: 'activity:get',
    summary: 'show one activity',
    configure: (c) => single(common(c)).argument('<id>', 'the activity ID'),
    load: async () => (await act()).get,
  },
  {
    name: 'activity:log',
    summary: "print an activity's log",
    configure: (c) =>
      common(c)
        .argument('<id>', 'the activity ID')
        .option('-f, --follow', 'keep printing new lines until the activity ends')
        .option('-t, --timestamps', 'prefix each line with its time'),
    load: async () => (await act()).log,
  },
  {
    name: 'activity:cancel',
    summary: 'cancel an activity (a restore only before its switch)',
    configure: (c) => common(c).argument('<id>', 'the activity ID'),
    load: async () => (await act()).cancel,
  },
  {
    name: 'project:create',
    summary: 'create a project and its repository (operators)',
    configure: (c) =>
      common(c, { env: false })
        .argument('<id>', 'the project ID (lower-case letters, digits, dashes)')
        .requiredOption('--plan <plan>', 'starter or pro')
        .option('--title <title>', 'a title')
        .option(
          '--repo <location>',
          "the repository: a directory or s3:https://host/bucket[/prefix] (default: the server's base + /ID)",
        )
        .option(
          '--s3-access-key-id <id>',
          'S3 credentials of this project (with --s3-secret-stdin)',
        )
        .option('--s3-secret-stdin', 'read the S3 secret access key from standard input')
        .option('--s3-region <region>', 'S3 signing region')
        .option('--s3-bucket-lookup <how>', 'auto, path or dns')
        .option('--s3-ca-file <file>', 'PEM certificates to trust for this storage')
        .option('--s3-storage-class <class>', 'storage class of data packs'),
    load: async () => (await proj()).projectCreate,
  },
  {
    name: 'project:list',
    aliases: ['projects'],
    summary: 'list the projects you have a role on',
    configure: (c) => listing(common(c, { env: false }), false),
    load: async () => (await proj()).projectList,
  },
  {
    name: 'project:get',
    summary: 'show a project',
    configure: (c) => single(common(c, { env: false })).argument('[id]', 'the project ID'),
    load: async () => (await proj()).projectGet,
  },
  {
    name: 'project:delete',
    summary: "delete a project's records (operators); its repository stays",
    configure: (c) => common(c, { env: false, yes: true }).argument('<id>', 'the project ID'),
    load: async () => (await proj()).projectDelete,
  },
  {
    name: 'project:set-remote',
    summary: 'tie this git checkout to a project (writes .coffer/config.yaml)',
    configure: (c) => common(c, { env: false }).argument('<project>', 'the project ID'),
    load: async () => (await proj()).setRemote,
  },
  {
    name: 'environment:create',
    summary: 'register an environment of a project (admins)',
    configure: (c) =>
      common(c, { env: false })
        .argument('<name>', 'the environment (its git branch)')
        .requiredOption('--type <type>', 'production, staging or integration')
        .option('--mysql <url>', 'a MySQL/MariaDB database, [NAME=]mysql://… (repeatable)', collect)
        .option(
          '--mysql-mode <mode>',
          'how its --mysql services are captured: logical, physical or auto (default: logical)',
        )
        .option('--mount <name=path>', 'a mount: its name and its directory (repeatable)', collect)
        .option('--git-dir <path>', 'the git checkout, to record the deployed commit')
        .option('--hold-cmd <cmd>', 'shell command that holds writes (maintenance on)')
        .option('--release-cmd <cmd>', 'shell command that releases them')
        .option('--label <label>', 'run its activities on workers with this label')
        .option('--inactive', 'create it inactive'),
    load: async () => (await proj()).environmentCreate,
  },
  {
    name: 'environment:list',
    aliases: ['environments'],
    summary: 'list the environments of a project',
    configure: (c) => listing(common(c, { env: false }), false),
    load: async () => (await proj()).environmentList,
  },
  {
    name: 'environment:get',
    summary: 'show an environment',
    configure: (c) => single(common(c)).argument('[name]', 'the environment'),
    load: async () => (await proj()).environmentGet,
  },
  {
    name: 'environment:activate',
    summary: 'activate an environment (admins)',
    configure: (c) => common(c).argument('[name]', 'the environment'),
    load: async () => (await proj()).environmentActivate,
  },
  {
    name: 'environment:deactivate',
    summary: 'deactivate an environment (admins)',
    configure: (c) => common(c).argument('[name]', 'the environment'),
    load: async () => (await proj()).environmentDeactivate,
  },
  {
    name: 'environment:delete',
    summary: 'forget an environment (admins); its snapshots stay',
    configure: (c) => common(c, { yes: true }).argument('[name]', 'the environment'),
    load: async () => (await proj()).environmentDelete,
  },
  {
    name: 'user:create',
    summary: 'create a user (operators)',
    configure: (c) =>
      common(c, { env: false })
        .argument('<name>', 'the user name')
        .option('--password-stdin', 'read the password from standard input')
        .option('--operator', 'a platform-wide administrator'),
    load: async () => (await usr()).userCreate,
  },
  {
    name: 'user:list',
    aliases: ['users'],
    summary: 'list users',
    configure: (c) => listing(common(c, { env: false }), false),
    load: async () => (await usr()).userList,
  },
  {
    name: 'user:delete',
    summary: 'delete a user (operators)',
    configure: (c) => common(c, { env: false, yes: true }).argument('<name>', 'the user name'),
    load: async () => (await usr()).userDelete,
  },
  {
    name: 'user:grant',
    summary: 'give a user a role on a project, or on one environment with -e (admins)',
    configure: (c) =>
      common(c)
        .argument('<name>', 'the user name')
        .requiredOption('--role <role>', 'admin, contributor or viewer'),
    load: async () => (await usr()).userGrant,
  },
  {
    name: 'user:revoke',
    summary: "remove a user's role on a project, or on one environment with -e (admins)",
    configure: (c) => common(c).argument('<name>', 'the user name'),
    load: async () => (await usr()).userRevoke,
  },
  {
    name: 'user:access',
    summary: 'list who has which role on a project',
    configure: (c) => listing(common(c, { env: false }), false),
    load: async () => (await usr()).accessList,
  },
  {
    name: 'token:create',
    summary: 'create an API token for scripts (printed once)',
    configure: (c) =>
      common(c, { env: false })
        .argument('<name>', 'a name for the token')
        .option('--expires-in-days <n>', 'expire after n days'),
    load: async () => (await usr()).tokenCreate,
  },
  {
    name: 'token:list',
    aliases: ['tokens'],
    summary: 'list your API tokens and sessions',
    configure: (c) => listing(common(c, { env: false }), false),
    load: async () => (await usr()).tokenList,
  },
  {
    name: 'token:revoke',
    summary: 'revoke an API token or end a session',
    configure: (c) => common(c, { env: false }).argument('<id>', 'the token ID'),
    load: async () => (await usr()).tokenRevoke,
  },
  {
    name: 'schedule:create',
    summary: 'take snapshots on a cron schedule (UTC) with a retention (admins)',
    configure: (c) =>
      common(c)
        .argument('<cron>', 'five fields: minute hour day month weekday, e.g. "0 3 * * *"')
        .option('--live', 'live snapshots (no pause)')
        .option('--keep-count <n>', 'keep the last n scheduled snapshots')
        .option('--keep-days <n>', 'keep scheduled snapshots for n days'),
    load: async () => (await usr()).scheduleCreate,
  },
  {
    name: 'schedule:list',
    aliases: ['schedules'],
    summary: "list an environment's schedules",
    configure: (c) => listing(common(c), false),
    load: async () => (await usr()).scheduleList,
  },
  {
    name: 'schedule:delete',
    summary: 'remove a schedule (admins)',
    configure: (c) => common(c).argument('<id>', 'the schedule ID'),
    load: async () => (await usr()).scheduleDelete,
  },
  {
    name: 'completion',
    summary: 'print a shell completion script (bash or zsh)',
    configure: (c) => c.argument('<shell>', 'bash or zsh'),
    load: async () => (await import('./client-completion.js')).run,
  },
]

import { CofferError, InvalidInputError } from '../../errors.js'
import {
  ApiClient,
  ask,
  askHidden,
  authFile,
  clientCommand,
  connect,
  LoginResultJson,
  MeJson,
  parseAs,
  parseFormat,
  readAuth,
  readStdin,
  removeAuth,
  renderProperties,
  resolveConnection,
  writeAuth,
  type CommonFlags,
} from '../client/index.js'

interface LoginFlags extends CommonFlags {
  readonly url?: string
  readonly user?: string
  readonly passwordStdin?: boolean
}

export const login = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<LoginFlags>()
  const stored = await readAuth(ctx.env)
  let url = o.url ?? ctx.env.COFFER_URL ?? stored?.url
  if (!url && ctx.canPrompt) url = await ask('Coffer server URL: ', ctx.signal)
  if (!url) throw new InvalidInputError('url', 'No server given: use --url URL (or COFFER_URL).')
  let user = o.user
  if (!user && ctx.canPrompt) user = await ask('User name: ', ctx.signal)
  if (!user) throw new InvalidInputError('user', 'No user given: use --user NAME.')
  let password: string
  if (o.passwordStdin) password = await readStdin()
  else if (ctx.canPrompt) password = await askHidden('Password: ', ctx.signal)
  else
    throw new InvalidInputError(
      'password',
      'There is no terminal to ask for the password: pipe it with --password-stdin.',
    )
  if (password === '') throw new InvalidInputError('password', 'The password is empty.')
  const client = new ApiClient(url, undefined, ctx.verbose ? ctx.err : undefined)
  const r = parseAs(
    LoginResultJson,
    await client.request('POST', '/api/auth/login', {
      body: { user, password },
      anonymous: true,
    }),
    'sign-in answer',
  )
  const file = await writeAuth(ctx.env, {
    url: client.url,
    user: r.user.name,
    token: r.token,
    expires_at: r.expires_at,
  })
  if (!ctx.quiet)
    ctx.err(`Signed in to ${client.url} as ${r.user.name}; the session is kept in ${file}.`)
})

export const logout = clientCommand(async (_cmd, _args, ctx) => {
  const stored = await readAuth(ctx.env)
  if (!stored) {
    if (!ctx.quiet) ctx.err('You are not signed in.')
    return
  }
  const client = new ApiClient(stored.url, stored.token, ctx.verbose ? ctx.err : undefined)
  try {
    await client.request('POST', '/api/auth/logout')
  } catch (e) {
    // An expired or revoked session is as good as ended; the local copy goes anyway.
    if (!(e instanceof CofferError && e.code === 'unauthenticated')) throw e
  }
  await removeAuth(ctx.env)
  if (!ctx.quiet) ctx.err(`Signed out of ${stored.url}.`)
})

export const info = clientCommand(async (cmd, _args, ctx) => {
  const o = cmd.opts<CommonFlags & { property?: string; format?: string }>()
  const format = parseFormat(o.format)
  const conn = await resolveConnection(ctx.env)
  const client = await connect(ctx)
  const me = parseAs(MeJson, await client.request('GET', '/api/auth/me'), 'identity')
  const props: Record<string, string | boolean> = {
    url: client.url,
    user: me.user.name,
    operator: me.user.operator,
    token_from: conn.source === 'environment' ? 'COFFER_TOKEN' : authFile(ctx.env),
  }
  if (o.property) {
    const v = props[o.property]
    if (v === undefined)
      throw new InvalidInputError(
        'property',
        `Unknown property "${o.property}": choose from ${Object.keys(props).join(', ')}.`,
      )
    ctx.out(String(v))
    return
  }
  if (format === 'json') {
    ctx.out(JSON.stringify(props, null, 2))
    return
  }
  process.stdout.write(
    renderProperties(
      Object.entries(props).map(([k, v]) => [k, String(v)] as const),
      format,
    ),
  )
})

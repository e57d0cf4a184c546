import { changeEnvironment, type EnvChange } from './env-change.js'

// `node --import tsx bench/lib/env-change-step.ts '<EnvChange JSON>'`: the env bench's
// "1 % changed", run by a warm restore step (bench/lib/env-step.mjs) between its restores.
await changeEnvironment(JSON.parse(process.argv[2] ?? '{}') as EnvChange)

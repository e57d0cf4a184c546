import { changeOnePercent } from './files-change.js'

// `node --import tsx bench/lib/files-change-step.ts ROOT SCALE SEED`: the files bench's
// "1 % changed", run by its warm restore step (bench/lib/files-step.mjs) between restores.
const [root, scale, seed] = process.argv.slice(2)
if (!root || !seed) throw new Error('usage: files-change-step.ts ROOT SCALE SEED')
await changeOnePercent(root, Number(scale) || 1, seed)

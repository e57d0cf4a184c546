// Entry point when running from source (tests, `tsx src/cli/entry.ts`); bin/coffer runs the
// built copy of main.js the same way.
import { main } from './main.js'

process.exitCode = await main(process.argv.slice(2))

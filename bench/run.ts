// `npm run bench -- <area> [args…]`: runs bench/<area>.ts, which measures Coffer and the peer
// tool in the same run and prints a table with their ratio. Benchmarks are never tests.
const [area, ...args] = process.argv.slice(2)
if (!area || !/^[a-z0-9-]+$/.test(area)) {
  process.stderr.write('usage: npm run bench -- <area> [args…]\n')
  process.exit(2)
}
const mod = (await import(`./${area}.js`)) as { run: (args: string[]) => Promise<void> }
await mod.run(args)

// Assembles each WebAssembly text module of src/ (`*.wat`) into a TypeScript module beside it
// (`<name>-wasm.ts`) that holds the binary as base64, so that the built code and the tests
// load it without a file of their own. `npm run build:wasm` after editing a .wat file;
// test/lib/wasm-modules.test.ts fails while a generated module differs from its source.
import { Buffer } from 'node:buffer'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath, pathToFileURL } from 'node:url'
import wabtModule from 'wabt'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The .wat files under src/, as paths relative to the repository's root. */
export async function watSources() {
  const entries = await readdir(join(ROOT, 'src'), { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.wat'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort()
}

/** The generated module's path and text for the .wat file at `source` (relative to the root). */
export async function generatedModule(source) {
  const wabt = await wabtModule()
  const parsed = wabt.parseWat(source, await readFile(join(ROOT, source), 'utf8'), {
    simd: true,
    multi_value: true,
  })
  try {
    parsed.validate()
    const { buffer } = parsed.toBinary({})
    const name = source.replace(/^.*\//, '')
    const text =
      `// Generated from ${name} by scripts/build-wasm.mjs (npm run build:wasm): do not edit.\n` +
      `export const WASM_BASE64 =\n  '${Buffer.from(buffer).toString('base64')}'\n`
    return { path: source.replace(/\.wat$/, '-wasm.ts'), text }
  } finally {
    parsed.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const source of await watSources()) {
    const { path, text } = await generatedModule(source)
    await writeFile(join(ROOT, path), text)
    process.stdout.write(`${source} -> ${path}\n`)
  }
}

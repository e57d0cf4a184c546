import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { generatedModule, watSources } from '../../scripts/build-wasm.mjs'

describe('WebAssembly modules', () => {
  it('each generated module holds its .wat source assembled as it is now', async () => {
    const sources = await watSources()
    expect(sources).toContain('src/capture/mysql/row-format.wat')
    for (const source of sources) {
      const { path, text } = await generatedModule(source)
      // Run `npm run build:wasm` when this fails: the .wat file was edited without it.
      expect(await readFile(path, 'utf8'), path).toBe(text)
    }
  })
})

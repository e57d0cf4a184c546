// @ts-check
import eslint from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * DESIGN.md's layers: each folder of src/ may import only the folders listed for it, and other
 * folders only through their index.js. `lib` (small named helpers) and `errors.ts` are open to all.
 */
const LAYERS = {
  'repo/backend': [],
  'repo/chunker': [],
  repo: ['repo/backend', 'repo/chunker'],
  // The row encoder threads load the chunkers alone, not the whole repository engine.
  capture: ['repo', 'repo/chunker'],
  snapshots: ['capture', 'repo'],
  store: [],
  jobs: ['snapshots', 'capture', 'repo', 'store'],
  control: ['jobs', 'snapshots', 'store', 'capture', 'repo'],
  api: ['control'],
  'api-client': [],
  cli: ['api-client', 'api', 'control', 'jobs', 'snapshots', 'store', 'capture', 'repo'],
  lib: [],
}
const ALL = Object.keys(LAYERS)

/** @param {string} layer */
function layerRules(layer) {
  const allowed = new Set(LAYERS[layer])
  const forbidden = ALL.filter(
    (other) =>
      other !== layer &&
      !allowed.has(other) &&
      !layer.startsWith(other + '/') &&
      !other.startsWith(layer + '/') &&
      other !== 'lib',
  )
  const groups = forbidden.map((other) => ({
    group: [`**/${other}/*`, `**/${other}/index.js`],
    message: `src/${layer} may not import src/${other} (DESIGN.md layers).`,
  }))
  // Allowed neighbours are reached through their index.js only; an allowed sub-layer of an
  // allowed layer (repo/chunker of repo) through its own index.js.
  const deep = [...allowed].map((other) => ({
    group: [
      `**/${other}/*`,
      `!**/${other}/index.js`,
      ...[...allowed]
        .filter((sub) => sub.startsWith(other + '/'))
        .flatMap((sub) => [`!**/${sub}`, `**/${sub}/*`, `!**/${sub}/index.js`]),
    ],
    message: `Import src/${other} through its index.js.`,
  }))
  return {
    files: [`src/${layer}/**/*.ts`],
    // A sub-layer's files follow its own rules.
    ignores: ALL.filter((sub) => sub.startsWith(layer + '/')).map((sub) => `src/${sub}/**`),
    rules: { 'no-restricted-imports': ['error', { patterns: [...groups, ...deep] }] },
  }
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'coverage/**', 'test-results/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // Interface implementations (backends) are async without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Use explicit named re-exports.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  ...ALL.map(layerRules),
)

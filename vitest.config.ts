import { defineConfig } from 'vitest/config'

// Two projects: `fast` is `npm test` (the full honest suite, minutes on 2 cores); `slow` holds
// the long trials (kill -9 loops, large data) that CI runs when time allows.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.slow.test.ts', 'test/web/**'],
        },
      },
      {
        // The web console: component tests (React, rendered to HTML) and the end-to-end test
        // in chromium against a built `coffer serve` (`npm run build` first).
        extends: true,
        test: {
          name: 'web',
          include: ['test/web/**/*.test.{ts,tsx}'],
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: ['test/**/*.slow.test.ts'],
        },
      },
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})

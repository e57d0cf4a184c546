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
          exclude: ['test/**/*.slow.test.ts'],
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

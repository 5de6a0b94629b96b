import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'ts/**/*.test.ts',
      'benchmarks/**/*.test.ts',
      'sim/**/*.test.ts',
      'collectors/**/*.test.ts',
      'trader/**/*.test.ts',
      'gateway/**/*.test.ts',
      'publisher/**/*.test.ts',
      'recorder/**/*.test.ts',
      'web/**/*.test.ts',
      'app/**/*.test.ts',
      'bindings/__test__/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    // The fleet test (root, network namespaces, sshd; minutes) runs alone: npm run test:fleet.
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.netns.test.ts'],
    testTimeout: 60_000,
  },
});

import { availableParallelism } from 'node:os';
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
    // Vitest's default is one worker less than the cores: one on a 2-core machine. The suite mostly
    // waits on real time (simulated exchanges, child processes, minute boundaries): one worker kept
    // about a fifth of the two cores busy, and two halve its wall time (10.7 → 6.0 min, 2026-12-04).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});

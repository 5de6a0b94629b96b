// The fleet test alone (`npm run test:fleet`): three network namespaces with sshd, deployed over ssh; needs root.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['app/**/*.netns.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});

// Builds the dashboard's two static sites: `--mode public` (published) into dist/site/public, `--mode owner` (never published) into dist/site/owner.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig(({ mode }) => {
  const owner = mode === 'owner';
  return {
    root: join(here, owner ? 'owner-site' : 'site'),
    // Relative URLs: the public site works from any bucket prefix, the owner site under /owner/.
    base: './',
    logLevel: 'warn',
    build: {
      outDir: join(here, '..', 'dist', 'site', owner ? 'owner' : 'public'),
      emptyOutDir: true,
      assetsDir: 'assets',
      // One small bundle: lightweight-charts and the pages in one file.
      chunkSizeWarningLimit: 400,
      sourcemap: false,
    },
  };
});

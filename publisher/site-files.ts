// The built dashboard's files (index.html, the bundle), read from its folder for publishing.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { contentTypeOf } from '../ts/publish/content-types.js';
import type { PublishedFile } from './publish-target.js';

/** One file of the built dashboard. */
export type SiteFile = PublishedFile;

/**
 * Every file under `dir` except those below an `owner` folder (the owner's view is never
 * published). Files under `assets/` carry a content hash in their name and are cached for a year;
 * everything else must be asked for again.
 */
export async function readSiteFiles(dir: string): Promise<SiteFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: SiteFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const path = relative(dir, full).split(sep).join('/');
    if (path.split('/')[0] === 'owner' || path.startsWith('owner.')) continue;
    files.push({
      path,
      body: await readFile(full),
      contentType: contentTypeOf(path),
      cacheControl: path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

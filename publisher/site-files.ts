// The built dashboard's files (index.html, the bundle), read from its folder for publishing.
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { PublishedFile } from './publish-target.js';

/** One file of the built dashboard. */
export type SiteFile = PublishedFile;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The content type of a file by its name. */
export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

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

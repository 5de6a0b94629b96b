// Where published files go: the interface, and the local-folder target (the default).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

/** One file to publish. */
export interface PublishedFile {
  /** Path inside the site, `/`-separated, no leading slash (`v1/summary.json`). */
  readonly path: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly cacheControl: string;
}

/** A place the site is published to. `put` rejects on failure (the publisher retries). */
export interface PublishTarget {
  /** For logs and the owner view: says where, never with credentials. */
  readonly description: string;
  put(file: PublishedFile): Promise<void>;
}

/** Refuses paths that could leave the site's folder or prefix. */
export function checkSitePath(path: string): void {
  if (path === '' || path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..'))
    throw new Error(`not a site path: ${JSON.stringify(path)}`);
}

/** Writes files under a folder, each atomically (temporary file then rename), so a reader never sees half a file. */
export class LocalFolderTarget implements PublishTarget {
  readonly #root: string;
  readonly description: string;

  constructor(root: string) {
    this.#root = resolve(root);
    this.description = `folder ${this.#root}`;
  }

  async put(file: PublishedFile): Promise<void> {
    checkSitePath(file.path);
    const target = join(this.#root, ...file.path.split('/'));
    if (!target.startsWith(this.#root + sep)) throw new Error(`outside the site: ${file.path}`);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, file.body);
    await rename(temporary, target);
  }
}

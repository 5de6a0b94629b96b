// The publishing round: build the documents, upload the changed ones (bounded retries), then the manifest; alert on failure.
import { createHash } from 'node:crypto';
import type { AlertSink } from '../ts/alerts/alert.js';
import type { Logger } from '../ts/log/logger.js';
import {
  DOCUMENT_FOLDER,
  DOCUMENT_VERSION,
  type ManifestDocument,
} from '../ts/publish/dashboard-documents.js';
import type { DashboardSource } from './dashboard-source.js';
import { buildDocuments, type DocumentLimits } from './document-builder.js';
import { type ForbiddenText, findForbidden } from './forbidden-text.js';
import type { PublishedFile, PublishTarget } from './publish-target.js';
import type { SiteFile } from './site-files.js';

/**
 * The publisher's alert sources: `publish.failed` (uploads kept failing), `publish.refused` (a file
 * held a secret or an internal address), `publish.recovered`.
 */
export const PUBLISH_ALERTS = {
  failed: 'publish.failed',
  refused: 'publish.refused',
  recovered: 'publish.recovered',
} as const;

/** The first few paths of a list, for an alert's details. */
function somePaths(paths: readonly string[]): string {
  return paths.length <= 5
    ? paths.join(', ')
    : `${paths.slice(0, 5).join(', ')} and ${paths.length - 5} more`;
}

/** How uploads are retried within one round. */
export interface RetryPolicy {
  /** Tries per file per round (≥ 1). */
  readonly attempts: number;
  /** Wait before the n-th retry: base × 2^(n−1), at most `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export interface PublisherOptions {
  readonly source: DashboardSource;
  readonly target: PublishTarget;
  readonly limits: DocumentLimits;
  /** The built dashboard's files, read each round (undefined: documents only). */
  readonly site: (() => Promise<readonly SiteFile[]>) | undefined;
  /** Text that must never be published (secrets, keys, internal hosts and addresses). */
  readonly forbidden: () => readonly ForbiddenText[];
  readonly retry: RetryPolicy;
  readonly alerts: AlertSink;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told after every round (the process writes its state file for the owner view). */
  readonly onRound?: (report: PublishReport & { at: number }) => void;
}

/** What one round did. */
export interface PublishReport {
  /** Paths uploaded this round. */
  readonly uploaded: readonly string[];
  /** Paths whose content had not changed. */
  readonly unchanged: number;
  /** Paths that failed after every retry (tried again next round). */
  readonly failed: readonly string[];
  /** Paths refused because they held forbidden text (never uploaded). */
  readonly refused: readonly string[];
  /** Upload attempts, including retries. */
  readonly attempts: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** Documents change every few seconds: caches must ask again (the page fetches them with `?h=<hash>`). */
const DOCUMENT_CACHE = 'no-cache';

/** A short content hash: the document without its build time, so an unchanged document keeps its hash. */
export function contentHash(value: unknown): string {
  const text =
    typeof value === 'object' && value !== null && 'generatedAt' in value
      ? JSON.stringify({ ...value, generatedAt: 0 })
      : JSON.stringify(value);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function bytesHash(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/**
 * Publishes the dashboard: each round builds every document from the source, uploads those whose
 * content hash differs from the last successful upload (and the dashboard's own files when they
 * changed), and uploads the manifest last, so a reader never finds a manifest naming a document
 * that is not there yet. A failed upload is retried within the round (bounded), then left for the
 * next round; while anything fails the manifest is not replaced. The first failing round raises
 * one `publish.failed` alert (warning), the first clean round after it `publish.recovered`.
 */
export class Publisher {
  readonly #o: PublisherOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Path → hash of the content last uploaded successfully. */
  readonly #published = new Map<string, string>();
  #failing = false;
  #rounds = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #last: (PublishReport & { at: number }) | undefined;

  constructor(options: PublisherOptions) {
    if (options.retry.attempts < 1) throw new Error('retry.attempts must be at least 1');
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The last round's report and how many rounds ran (for the owner view and tests). */
  stats(): { rounds: number; failing: boolean; last: (PublishReport & { at: number }) | undefined } {
    return { rounds: this.#rounds, failing: this.#failing, last: this.#last };
  }

  /** Runs one round now. */
  async publishOnce(): Promise<PublishReport> {
    const now = this.#now();
    const documents = await buildDocuments(this.#o.source, this.#o.limits, now);
    const forbidden = this.#o.forbidden();
    const pending: { file: PublishedFile; hash: string }[] = [];
    const hashes: Record<string, string> = {};
    let unchanged = 0;
    const refused: string[] = [];
    const consider = (file: PublishedFile, hash: string) => {
      const found = findForbidden(file.body, forbidden);
      if (found !== undefined) {
        refused.push(file.path);
        this.#o.logger.error('refused to publish a file holding forbidden text', {
          path: file.path,
          what: found.label,
        });
        return;
      }
      if (this.#published.get(file.path) === hash) unchanged++;
      else pending.push({ file, hash });
    };

    for (const [path, document] of documents) {
      const hash = contentHash(document);
      hashes[path] = hash;
      const body = new TextEncoder().encode(JSON.stringify(document));
      consider(
        { path: `${DOCUMENT_FOLDER}/${path}`, body, contentType: JSON_TYPE, cacheControl: DOCUMENT_CACHE },
        hash,
      );
    }
    for (const file of (await this.#o.site?.()) ?? []) consider(file, bytesHash(file.body));

    let attempts = 0;
    const uploaded: string[] = [];
    const failed: string[] = [];
    const upload = async ({ file, hash }: { file: PublishedFile; hash: string }) => {
      const { retry } = this.#o;
      for (let attempt = 1; attempt <= retry.attempts; attempt++) {
        attempts++;
        try {
          await this.#o.target.put(file);
          this.#published.set(file.path, hash);
          uploaded.push(file.path);
          return;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          this.#o.logger.warn('upload failed', { path: file.path, attempt, of: retry.attempts, reason });
          if (attempt < retry.attempts)
            await this.#sleep(Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)));
        }
      }
      failed.push(file.path);
    };
    // A few at a time: object storage takes parallel puts well; a local folder does not mind.
    for (let i = 0; i < pending.length; i += 8) await Promise.all(pending.slice(i, i + 8).map(upload));

    const manifest: ManifestDocument = {
      version: DOCUMENT_VERSION,
      generatedAt: now,
      documents: hashes,
      chartSymbols: [...documents.keys()]
        .filter((p) => p.startsWith('charts/'))
        .map((p) => p.slice('charts/'.length, -'.json'.length)),
    };
    if (failed.length === 0 && refused.length === 0) {
      const manifestFile: PublishedFile = {
        path: `${DOCUMENT_FOLDER}/manifest.json`,
        body: new TextEncoder().encode(JSON.stringify(manifest)),
        contentType: JSON_TYPE,
        cacheControl: DOCUMENT_CACHE,
      };
      const hash = contentHash(manifest);
      if (this.#published.get(manifestFile.path) !== hash) await upload({ file: manifestFile, hash });
      else unchanged++;
    }

    const report: PublishReport = { uploaded, unchanged, failed, refused, attempts };
    this.#rounds++;
    this.#last = { ...report, at: now };
    this.#alertOn(report);
    this.#o.onRound?.(this.#last);
    this.#o.logger.debug('published', {
      uploaded: uploaded.length,
      unchanged,
      failed: failed.length,
      refused: refused.length,
    });
    return report;
  }

  #alertOn(report: PublishReport): void {
    const target = this.#o.target.description;
    if (report.refused.length > 0) {
      this.#o.alerts.raise({
        severity: 'critical',
        source: PUBLISH_ALERTS.refused,
        title: 'files holding a secret or an internal address were not published',
        details: { files: report.refused.length, paths: somePaths(report.refused) },
      });
    }
    if (report.failed.length > 0 && !this.#failing) {
      this.#failing = true;
      this.#o.alerts.raise({
        severity: 'warning',
        source: PUBLISH_ALERTS.failed,
        title: 'publishing the dashboard fails: the public page is stale until it works again',
        details: {
          target,
          files: report.failed.length,
          tries: this.#o.retry.attempts,
          paths: somePaths(report.failed),
        },
      });
    } else if (report.failed.length === 0 && this.#failing) {
      this.#failing = false;
      this.#o.alerts.raise({
        severity: 'info',
        source: PUBLISH_ALERTS.recovered,
        title: 'publishing the dashboard works again',
        details: { target, files: report.uploaded.length },
      });
    }
  }

  /** Publishes every `intervalMs` (a round never overlaps the previous one) until `stop`. */
  start(intervalMs: number): void {
    const tick = () => {
      this.#running = this.publishOnce()
        .then(() => undefined)
        .catch((error: unknown) => {
          // The records could not be read (a broken store): logged, and the next round tries again.
          const reason = error instanceof Error ? error.message : String(error);
          this.#o.logger.error('publishing round failed', { reason });
        })
        .finally(() => {
          if (this.#timer !== undefined) this.#timer = setTimeout(tick, intervalMs);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops the rounds and waits for a running one to end. */
  async stop(): Promise<void> {
    const timer = this.#timer;
    this.#timer = undefined;
    if (timer !== undefined) clearTimeout(timer);
    await this.#running;
  }
}

// Fetches the published documents: the manifest first, then every fixed document in parallel (by content hash, so caches help).
import {
  type ChartDocument,
  chartPath,
  DOCUMENT_FOLDER,
  DOCUMENT_VERSION,
  type FixedDocuments,
  type ManifestDocument,
} from '../../ts/publish/dashboard-documents.js';

/** The fixed documents' paths, in the order the pages use them. */
export const FIXED_PATHS = [
  'summary.json',
  'positions.json',
  'equity.json',
  'daily.json',
  'symbols.json',
  'round-trips.json',
  'status.json',
] as const satisfies readonly (keyof FixedDocuments)[];

/** Everything the pages show, as of one manifest. */
export interface Loaded {
  readonly manifest: ManifestDocument;
  readonly docs: FixedDocuments;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const value = (await response.json()) as { version?: unknown };
  if (value.version !== DOCUMENT_VERSION)
    throw new Error(`${url}: version ${String(value.version)}, expected ${DOCUMENT_VERSION}`);
  return value as T;
}

/** Reads the manifest, then all fixed documents at once. `base` is where the site lives ("./"). */
export async function loadDocuments(base: string): Promise<Loaded> {
  const manifest = await getJson<ManifestDocument>(`${base}${DOCUMENT_FOLDER}/manifest.json?t=${Date.now()}`);
  const entries = await Promise.all(
    FIXED_PATHS.map(
      async (path) =>
        [
          path,
          await getJson(`${base}${DOCUMENT_FOLDER}/${path}?h=${manifest.documents[path] ?? Date.now()}`),
        ] as const,
    ),
  );
  return { manifest, docs: Object.fromEntries(entries) as unknown as FixedDocuments };
}

/** One symbol's chart document. */
export function loadChart(base: string, manifest: ManifestDocument, symbol: string): Promise<ChartDocument> {
  const path = chartPath(symbol);
  return getJson<ChartDocument>(
    `${base}${DOCUMENT_FOLDER}/${path}?h=${manifest.documents[path] ?? Date.now()}`,
  );
}

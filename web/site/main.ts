// The public dashboard: loads the published documents, renders the page named by the URL's hash, refreshes when they change.
import '../ui/styles.css';
import type { IChartApi } from 'lightweight-charts';
import { type Loaded, loadDocuments } from '../ui/documents.js';
import { el } from '../ui/dom.js';
import { formatTime } from '../ui/format.js';
import { PAGES } from './pages.js';

/** The documents live next to the page (`./v1/...`), on object storage or the local server alike. */
const BASE = './';
const REFRESH_MS = 10_000;

let loaded: Loaded | undefined;
let charts: IChartApi[] = [];
let rendering = Promise.resolve();

function route(): { id: string; param: string | undefined } {
  const [id = 'overview', param] = window.location.hash.replace(/^#/, '').split('/');
  return { id: PAGES.some((p) => p.id === id) ? id : 'overview', param };
}

function renderNav(active: string): void {
  const nav = document.getElementById('nav');
  nav?.replaceChildren(
    ...PAGES.map((p) =>
      el('a', { href: `#${p.id}`, class: p.id === active ? 'active' : '', 'data-page': p.id }, p.title),
    ),
  );
}

async function render(): Promise<void> {
  const main = document.getElementById('page');
  if (main === null || loaded === undefined) return;
  const { id, param } = route();
  renderNav(id);
  const page = PAGES.find((p) => p.id === id) ?? PAGES[0];
  if (page === undefined) return;
  const rendered = await page.render(loaded, BASE, param);
  for (const chart of charts) chart.remove();
  charts = [];
  main.replaceChildren(rendered.node);
  main.dataset.page = page.id;
  charts = rendered.draw();
  const updated = document.getElementById('updated');
  if (updated !== null) updated.textContent = `updated ${formatTime(loaded.manifest.generatedAt)} UTC`;
  document.body.dataset.ready = page.id;
}

function rerender(): void {
  rendering = rendering.then(render).catch((error: unknown) => showError(error));
}

function showError(error: unknown): void {
  const main = document.getElementById('page');
  const message = error instanceof Error ? error.message : String(error);
  main?.replaceChildren(el('p', { class: 'error' }, `Could not load the dashboard: ${message}`));
  document.body.dataset.ready = 'error';
}

async function refresh(): Promise<void> {
  try {
    const next = await loadDocuments(BASE);
    const changed =
      loaded === undefined ||
      JSON.stringify(next.manifest.documents) !== JSON.stringify(loaded.manifest.documents);
    loaded = next;
    if (changed) rerender();
  } catch (error) {
    if (loaded === undefined) showError(error);
  }
}

window.addEventListener('hashchange', rerender);
void refresh();
setInterval(() => void refresh(), REFRESH_MS);

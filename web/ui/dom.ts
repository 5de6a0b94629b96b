// Small DOM helpers for the dashboard pages: elements, tables, number cells with their exact value and sign colour.
import { formatExact, formatMoney, signOf } from './format.js';

type Child = Node | string | null | undefined;

/** Creates an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined) element.append(child);
  return element;
}

/**
 * A number: its text formatted, its exact value in `data-value` (what tests compare with the
 * records) and its sign as a class (`pos`, `neg`) when `coloured`.
 */
export function num(value: string | null, kind: 'money' | 'signed' | 'exact', field?: string): HTMLElement {
  const text = kind === 'exact' ? formatExact(value) : formatMoney(value, kind === 'signed');
  const span = el('span', { class: 'num', 'data-value': value ?? '' }, text);
  if (field !== undefined) span.dataset.field = field;
  if (kind === 'signed') {
    const sign = signOf(value);
    if (sign > 0) span.classList.add('pos');
    if (sign < 0) span.classList.add('neg');
  }
  return span;
}

/** A table with a header row; each row's cells may be nodes or text. `id` names it for tests. */
export function table(id: string, headers: readonly string[], rows: readonly Child[][]): HTMLElement {
  const head = el('tr', {}, ...headers.map((h) => el('th', {}, h)));
  const body = rows.map((cells, i) =>
    el('tr', { 'data-row': String(i) }, ...cells.map((c) => el('td', {}, c))),
  );
  const empty = rows.length === 0 ? el('p', { class: 'empty' }, 'Nothing yet.') : null;
  return el(
    'div',
    { class: 'table-wrap' },
    el('table', { id }, el('thead', {}, head), el('tbody', {}, ...body)),
    empty,
  );
}

/** A labelled figure card. */
export function card(label: string, value: HTMLElement): HTMLElement {
  return el(
    'div',
    { class: 'card' },
    el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, value),
  );
}

/** A section with a heading. */
export function section(title: string, ...children: Child[]): HTMLElement {
  return el('section', {}, el('h2', {}, title), ...children);
}

// The owner's live view: processes, hub latency and freshness, machines, masked configuration, logs, alerts, paper trades, and the HALT/REDUCE switch.
import '../ui/styles.css';
import { card, el, num, section, table } from '../ui/dom.js';
import { formatAge, formatTime } from '../ui/format.js';
import { OWNER_CSRF_HEADER, type OwnerLive } from '../ui/owner-types.js';

const REFRESH_MS = 3000;

/** While a button is held down the page is not redrawn, so the click lands on the button pressed. */
let pressing = false;
document.addEventListener('pointerdown', () => {
  pressing = true;
});
document.addEventListener('pointerup', () => {
  setTimeout(() => {
    pressing = false;
  }, 0);
});

/** The answer to the last command, kept across refreshes (each refresh redraws the page). */
let commandStatus = '';

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

async function setState(trader: string, state: string): Promise<void> {
  const reason = window.prompt(`Why switch ${trader} to ${state}?`, `owner view: ${state}`);
  if (reason === null) return;
  const response = await fetch('./api/trading-state', {
    method: 'POST',
    headers: { 'content-type': 'application/json', [OWNER_CSRF_HEADER]: '1' },
    body: JSON.stringify({ trader, state, reason }),
  });
  const text = await response.text();
  if (response.status === 200) commandStatus = `${trader}: ${state} applied`;
  else if (response.status === 202)
    commandStatus = `${trader}: ${state} written; the trader applies it when it runs`;
  else commandStatus = `refused: ${text}`;
  const status = document.getElementById('command-status');
  if (status !== null) status.textContent = commandStatus;
  await refresh();
}

function tradingSection(live: OwnerLive): HTMLElement {
  return section(
    'Trading state',
    live.tradingNote === null ? null : el('p', { class: 'meta' }, live.tradingNote),
    table(
      'trading',
      ['Trader', 'State', 'Since', 'By', 'Reason', 'Force-closing', 'Switch'],
      live.trading.map((t) => [
        t.trader,
        el(
          'strong',
          { class: t.state === 'ACTIVE' ? 'pos' : 'neg', 'data-field': `state-${t.trader}` },
          t.state,
        ),
        formatTime(t.since),
        t.source ?? '—',
        t.reason ?? '—',
        t.forceClosing.join(', ') || '—',
        el(
          'span',
          { class: 'inline' },
          ...['ACTIVE', 'REDUCING', 'HALTED'].map((state) => {
            const button = el(
              'button',
              {
                type: 'button',
                class: state === 'ACTIVE' ? '' : 'danger',
                'data-command': `${t.trader}:${state}`,
              },
              state === 'ACTIVE' ? 'Resume' : state === 'REDUCING' ? 'Reduce' : 'Halt',
            );
            button.addEventListener('click', () => void setState(t.trader, state));
            return button;
          }),
        ),
      ]),
    ),
    el('p', { id: 'command-status', class: 'meta' }, commandStatus),
  );
}

function render(live: OwnerLive): HTMLElement {
  const hub = live.hub;
  return el(
    'div',
    {},
    el(
      'div',
      { class: 'cards' },
      card(
        'Hub',
        el(
          'span',
          { 'data-field': 'hub' },
          hub.reachable ? `up ${formatAge(hub.uptimeMs)}` : `unreachable: ${hub.error ?? ''}`,
        ),
      ),
      card(
        'Latency p50 / p99',
        el('span', {}, hub.latencyUs === null ? '—' : `${hub.latencyUs.p50} / ${hub.latencyUs.p99} µs`),
      ),
      card('Peers', el('span', { 'data-field': 'peers' }, String(hub.peers.length))),
      card('Paper fills', el('span', { 'data-field': 'trades' }, String(live.trades.length))),
    ),
    tradingSection(live),
    section(
      'Processes and heartbeats',
      table(
        'peers',
        ['Process', 'Role', 'Address', 'Connected', 'Last heard', 'Mode', 'In', 'Out'],
        hub.peers.map((p) => [
          p.name,
          p.role,
          p.remote,
          formatTime(p.connectedAt),
          `${formatAge(live.now - p.lastSeen)} ago`,
          p.mode,
          String(p.messagesIn),
          String(p.messagesOut),
        ]),
      ),
    ),
    section(
      'Data freshness per collector',
      table(
        'freshness',
        ['Collector', 'Kind', 'Connected', 'Frames', 'Last data'],
        hub.collectors.map((c) => [
          c.name,
          c.kind ?? '—',
          el('span', { class: c.connected ? 'pos' : 'neg' }, c.connected ? 'yes' : 'no'),
          String(c.frames),
          c.ageMs === null ? 'never' : `${formatAge(c.ageMs)} ago`,
        ]),
      ),
    ),
    section(
      'Machines',
      live.machinesNote === null ? null : el('p', { class: 'meta' }, live.machinesNote),
      table(
        'machines',
        ['Machine', 'Cores', 'Load 1 min', 'CPU busy', 'Memory used', 'Disk used', 'Up'],
        live.machines.map((m) => [
          m.name,
          String(m.cores),
          m.load1.toFixed(2),
          m.cpuBusy === null ? '—' : `${(m.cpuBusy * 100).toFixed(0)} %`,
          `${gib(m.memoryTotal - m.memoryFree)} of ${gib(m.memoryTotal)}`,
          `${gib(m.diskTotal - m.diskFree)} of ${gib(m.diskTotal)} (${m.diskPath})`,
          formatAge(m.uptimeS * 1000),
        ]),
      ),
    ),
    section(
      'Paper trades',
      live.tradesNote === null ? null : el('p', { class: 'meta' }, live.tradesNote),
      table(
        'paper-trades',
        ['Time', 'Symbol', 'Side', 'Price', 'Qty', 'Realized PnL', 'Commission'],
        live.trades.map((t) => [
          formatTime(t.time),
          t.symbol,
          el('span', { class: t.side === 'BUY' ? 'pos' : 'neg' }, t.side),
          num(t.price, 'exact'),
          num(t.quantity, 'exact'),
          num(t.realizedPnl, 'signed'),
          num(t.commission, 'money'),
        ]),
      ),
    ),
    section('Recent alerts', el('pre', { class: 'logs', id: 'alerts' }, live.alerts.join('\n') || 'none')),
    section('Recent logs', el('pre', { class: 'logs', id: 'logs' }, live.logs.join('\n') || 'none')),
    section(
      'Configuration (secrets masked)',
      table(
        'secrets',
        ['Secret', 'Value'],
        Object.entries(live.secrets).map(([k, v]) => [k, v]),
      ),
      el('pre', { class: 'logs', id: 'config' }, JSON.stringify(live.config, null, 2)),
    ),
    section(
      'Publisher',
      live.publisherNote === null ? null : el('p', { class: 'meta' }, live.publisherNote),
      el('pre', { class: 'logs', id: 'publisher' }, JSON.stringify(live.publisher, null, 2)),
    ),
  );
}

async function refresh(): Promise<void> {
  if (pressing) return;
  const main = document.getElementById('page');
  try {
    const response = await fetch('./api/live', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const live = (await response.json()) as OwnerLive;
    main?.replaceChildren(render(live));
    const updated = document.getElementById('updated');
    if (updated !== null) updated.textContent = `live · ${formatTime(live.now)} UTC`;
    document.body.dataset.ready = 'owner';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    main?.replaceChildren(el('p', { class: 'error' }, `Could not load the live view: ${message}`));
    document.body.dataset.ready = 'error';
  }
}

void refresh();
setInterval(() => void refresh(), REFRESH_MS);

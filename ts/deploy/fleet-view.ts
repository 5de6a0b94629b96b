// The fleet as a table, from the hub's full status: one row per peer, weight per host, collectors gone quiet.
import { BUDGET_KINDS, type PerKind } from '../exchange/budget-kinds.js';
import type { HubStatus, PeerStatus } from '../hub/hub-status.js';

/** One peer as `tributary status` shows it. */
export interface FleetRow {
  host: string;
  role: string;
  kind: string;
  peer: string;
  instance: string;
  /** ms since the hub last heard from the peer. */
  lastSeenMs: number;
  /**
   * How old the data this peer brings is: a collector's last data at the hub (the hub's own
   * measure), the recorder's last reconciliation with the exchange, the publisher's last round
   * (from their reports); null where the peer has no such figure.
   */
  dataAgeMs: number | null;
  restarts: number;
  connections: number;
  version: string;
  node: string;
}

/** Weight a host used this minute against its limit (null: nothing reported it). */
export interface HostWeight {
  host: string;
  used: number | null;
  limit: number | null;
  /**
   * From the hub's shared budget (`leased`): granted by kind, requests waiting by kind, the block in
   * force. From collectors' own reports (`reported`, hosts whose processes do not lease): none of
   * it. `none`: a host with peers and no weight figure at all.
   */
  source: 'leased' | 'reported' | 'none';
  byKind: PerKind | null;
  waiting: number;
  block: string | null;
}

/** A time in a peer's report (Unix ms), or undefined. */
function reportedTime(peer: PeerStatus, field: string): number | undefined {
  const value = peer.report?.[field];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** {@link FleetRow.dataAgeMs} of `peer`. */
function dataAgeOf(
  peer: PeerStatus,
  status: HubStatus,
  collectorAges: ReadonlyMap<string, number | null>,
): number | null {
  if (peer.role === 'collector') return collectorAges.get(peer.peer) ?? null;
  const at =
    peer.kind === 'recorder'
      ? reportedTime(peer, 'lastReconciledAt')
      : peer.kind === 'publisher'
        ? reportedTime(peer, 'lastRoundAt')
        : undefined;
  return at === undefined ? null : Math.max(0, status.now - at);
}

function instanceOf(peer: PeerStatus): string {
  const reported = peer.report?.instance;
  if (typeof reported === 'number' && Number.isInteger(reported)) return String(reported);
  const suffix = /-(\d+)$/.exec(peer.peer);
  return suffix?.[1] ?? '-';
}

function hostOf(peer: PeerStatus): string {
  return peer.agent?.host ?? peer.remote;
}

/** The rows of the fleet table, sorted by host, role, peer. */
export function fleetRows(status: HubStatus): FleetRow[] {
  const ages = new Map(status.collectors.map((c) => [c.peer, c.ageMs]));
  return status.peers
    .map((peer) => ({
      host: hostOf(peer),
      role: peer.role,
      kind: peer.kind ?? '-',
      peer: peer.peer,
      instance: instanceOf(peer),
      lastSeenMs: Math.max(0, status.now - peer.lastSeen),
      dataAgeMs: dataAgeOf(peer, status, ages),
      restarts: peer.restarts,
      connections: peer.connections,
      version: peer.agent?.version ?? '-',
      node: peer.agent?.node ?? '-',
    }))
    .sort(
      (a, b) => a.host.localeCompare(b.host) || a.role.localeCompare(b.role) || a.peer.localeCompare(b.peer),
    );
}

/**
 * Weight per host: the hub's shared budget of each IP group (used this minute against the limit,
 * by kind), then hosts seen only in collectors' reports (`weight: { used, limit }`, processes
 * pacing alone; the exchange counts weight per IP across processes, so a reported host's figure is
 * the largest any of its collectors saw). Every host with a peer is listed; one without any figure
 * has nulls.
 */
export function hostWeights(status: HubStatus): HostWeight[] {
  const byHost = new Map<string, HostWeight>();
  for (const group of status.weight) {
    const waiting = BUDGET_KINDS.reduce((n, kind) => n + group.waiting[kind], 0);
    byHost.set(group.group, {
      host: group.group,
      used: group.used,
      limit: group.limit,
      source: 'leased',
      byKind: group.granted,
      waiting,
      block:
        group.block === null
          ? null
          : `${group.block.kind} until ${new Date(group.block.until).toISOString().slice(11, 19)}`,
    });
  }
  for (const peer of status.peers) {
    const host = hostOf(peer);
    const seen: HostWeight = byHost.get(host) ?? {
      host,
      used: null,
      limit: null,
      source: 'none',
      byKind: null,
      waiting: 0,
      block: null,
    };
    byHost.set(host, seen);
    const weight = peer.report?.weight;
    if (typeof weight !== 'object' || weight === null) continue;
    const { used, limit } = weight as { used?: unknown; limit?: unknown };
    if (typeof used !== 'number' || typeof limit !== 'number') continue;
    if (seen?.source === 'leased') continue;
    const base = { host, source: 'reported' as const, byKind: null, waiting: 0, block: null };
    byHost.set(host, {
      ...base,
      used: Math.max(seen?.used ?? used, used),
      limit: Math.max(seen?.limit ?? limit, limit),
    });
  }
  return [...byHost.values()].sort((a, b) => a.host.localeCompare(b.host));
}

/** A duration for people: `850ms`, `4.2s`, `3m10s`, `2h05m`. */
export function shortDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The whole `tributary status` text. */
export function renderFleet(status: HubStatus): string {
  const lines: string[] = [];
  lines.push(
    `hub ${status.hub}: version ${status.software.version}, node ${status.software.node}, transport ${status.transport}` +
      `, TLS ${status.tls ? 'on' : 'off'}, up ${shortDuration(status.uptimeMs)}, ${status.symbols.active} symbols, ${status.peers.length} peers`,
  );
  lines.push('');
  const rows = fleetRows(status);
  lines.push(
    ...table(
      ['HOST', 'ROLE', 'KIND', 'PEER', 'INST', 'LAST SEEN', 'DATA AGE', 'RESTARTS', 'VERSION', 'NODE'],
      rows.map((r) => [
        r.host,
        r.role,
        r.kind,
        r.peer,
        r.instance,
        shortDuration(r.lastSeenMs),
        shortDuration(r.dataAgeMs),
        String(r.restarts),
        r.version,
        r.node,
      ]),
    ),
  );
  const weights = hostWeights(status);
  if (weights.length > 0) {
    lines.push(
      '',
      'Request weight this minute per host (one IP), against its limit; by kind (- where nothing reports it):',
    );
    lines.push(
      ...table(
        ['HOST', 'USED', 'LIMIT', 'SHARE', ...BUDGET_KINDS.map((k) => k.toUpperCase()), 'WAITING', 'BLOCK'],
        weights.map((w) => [
          w.host,
          w.used === null ? '-' : String(w.used),
          w.limit === null ? '-' : String(w.limit),
          w.used !== null && w.limit !== null && w.limit > 0
            ? `${Math.round((100 * w.used) / w.limit)}%`
            : '-',
          ...BUDGET_KINDS.map((k) => (w.byKind === null ? '-' : String(w.byKind[k]))),
          w.source === 'leased' ? String(w.waiting) : w.source === 'reported' ? 'not shared' : '-',
          w.block ?? '-',
        ]),
      ),
    );
  }
  const gone = status.collectors.filter((c) => !c.connected);
  if (gone.length > 0) {
    lines.push('', 'Collectors not connected:');
    for (const c of gone)
      lines.push(`  ${c.peer} (${c.kind ?? '?'}): last data ${shortDuration(c.ageMs)} ago`);
  }
  const versions = new Set(rows.map((r) => r.version).filter((v) => v !== '-'));
  versions.add(status.software.version);
  if (versions.size > 1) lines.push('', `Mixed versions in the fleet: ${[...versions].sort().join(', ')}`);
  return `${lines.join('\n')}\n`;
}

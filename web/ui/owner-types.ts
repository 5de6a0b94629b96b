// The owner's live view document (`GET /owner/api/live`): shared by the dashboard server and the owner page; never published.

/** One process as the hub sees it, with its own last report. */
export interface OwnerPeer {
  readonly name: string;
  readonly role: string;
  readonly kind: string | null;
  readonly remote: string;
  readonly connectedAt: number;
  readonly lastSeen: number;
  readonly mode: string;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly report: Record<string, unknown> | null;
}

/** CPU, memory and disk of one machine. */
export interface MachineStats {
  readonly name: string;
  readonly cores: number;
  readonly load1: number;
  /** Busy share of all cores since the previous sample, 0..1 (null on the first sample). */
  readonly cpuBusy: number | null;
  readonly memoryTotal: number;
  readonly memoryFree: number;
  readonly diskPath: string;
  readonly diskTotal: number;
  readonly diskFree: number;
  readonly uptimeS: number;
}

/** A trader's trading state as its state file says. */
export interface OwnerTradingState {
  readonly trader: string;
  readonly state: string;
  readonly since: number | null;
  readonly source: string | null;
  readonly reason: string | null;
  readonly closeAll: string | null;
  readonly forceClosing: readonly string[];
}

/** One recorded fill in paper mode. */
export interface OwnerTrade {
  readonly time: number;
  readonly symbol: string;
  readonly side: string;
  readonly price: string;
  readonly quantity: string;
  readonly realizedPnl: string | null;
  readonly commission: string | null;
}

/** Everything the owner view shows at once. */
export interface OwnerLive {
  readonly now: number;
  readonly hub: {
    readonly reachable: boolean;
    readonly error: string | null;
    readonly uptimeMs: number | null;
    readonly latencyUs: {
      readonly p50: number;
      readonly p90: number;
      readonly p99: number;
      readonly max: number;
    } | null;
    readonly peers: readonly OwnerPeer[];
    readonly collectors: readonly {
      readonly name: string;
      readonly kind: string | null;
      readonly connected: boolean;
      readonly frames: number;
      readonly ageMs: number | null;
    }[];
  };
  readonly machines: readonly MachineStats[];
  /** Why this machine could not be sampled (then `machines` is empty), or null. */
  readonly machinesNote: string | null;
  /** The configuration in force; secrets are listed by name only, masked. */
  readonly config: unknown;
  readonly secrets: Readonly<Record<string, string>>;
  readonly logs: readonly string[];
  readonly alerts: readonly string[];
  readonly trades: readonly OwnerTrade[];
  readonly tradesNote: string | null;
  readonly trading: readonly OwnerTradingState[];
  /** Why the trading states could not be read (then `trading` is empty), or null. */
  readonly tradingNote: string | null;
  readonly publisher: Record<string, unknown> | null;
  /** Why the publisher's state file could not be read (then `publisher` is null), or null. */
  readonly publisherNote: string | null;
}

/** The header every state-changing request must carry (a cross-site form cannot set it). */
export const OWNER_CSRF_HEADER = 'x-tributary-owner';

// The `exchange` section: which exchange the system talks to, and how hard it may use it.
import {
  expecting,
  integer,
  number,
  oneOf,
  type SectionSettings,
  section,
  text,
  url,
} from './config-fields.js';

/** Which exchange the system talks to. */
export const EXCHANGE_KINDS = ['simulator', 'binance', 'testnet'] as const;
export type ExchangeKind = (typeof EXCHANGE_KINDS)[number];

/** Binance's production and testnet endpoints (REST base, websocket base). */
export const EXCHANGE_ENDPOINTS = {
  binance: { restUrl: 'https://fapi.binance.com', wsUrl: 'wss://fstream.binance.com' },
  testnet: { restUrl: 'https://demo-fapi.binance.com', wsUrl: 'wss://demo-fstream.binance.com' },
} as const;

/** How the processes of one IP share its request weight. */
export const BUDGET_COORDINATORS = ['hub', 'none'] as const;

/** `exchange.budget`: one weight budget per IP, shared by the processes of a host. */
export const budgetSection = section({
  coordinator: oneOf(BUDGET_COORDINATORS)
    .default('hub')
    .describe(
      'hub: processes with a hub connection lease their weight from the hub, one budget per group; none: each process paces alone to the whole share',
    ),
  group: text()
    .regex(/^[A-Za-z0-9._:+@-]{1,64}$/, { error: expecting('1 to 64 characters of A-Z a-z 0-9 . _ : + @ -') })
    .optional()
    .describe(
      'The IP group whose processes share one budget (default: the host name, TRIBUTARY_HOST or the OS name); give hosts behind one NAT address the same group',
    ),
  fallbackShare: number(0.01, 1)
    .default(0.25)
    .describe(
      "Share of the paced limit a process keeps to when it cannot lease (hub unreachable, or no hub connection: the gateway, the publisher); the exchange's used-weight header still holds every process to it",
    ),
  orderReserve: number(0, 0.5)
    .default(0.05)
    .describe('Share of the paced limit only order requests (place, cancel, query) may use'),
  limitsRefreshMs: integer(60_000, 86_400_000)
    .default(3_600_000)
    .describe("How often each process re-reads exchangeInfo's rateLimits (read at start too)"),
});

/** The `exchange` section; `restUrl` and `wsUrl` default to the endpoints of `kind`. */
export const exchangeSection = section({
  kind: oneOf(EXCHANGE_KINDS)
    .default('simulator')
    .describe('The built-in simulator, Binance USD-M futures, or its testnet'),
  restUrl: url(['http', 'https'])
    .optional()
    .describe("REST base URL; derived from kind (the simulator's own address under `tributary up`)"),
  wsUrl: url(['ws', 'wss'])
    .optional()
    .describe('Websocket base URL (routes /public, /market, /private are appended); derived from kind'),
  recvWindow: integer(1, 60_000).default(5000).describe('recvWindow of signed requests, ms'),
  weightShare: number(0.05, 1)
    .default(0.8)
    .describe(
      "Share of the exchange's limits (exchangeInfo rateLimits: REQUEST_WEIGHT per minute, ORDERS per 10 s and minute) this IP paces to",
    ),
  budget: budgetSection.prefault({}),
}).transform((exchange) => {
  const endpoints = exchange.kind === 'simulator' ? undefined : EXCHANGE_ENDPOINTS[exchange.kind];
  return {
    ...exchange,
    restUrl: exchange.restUrl ?? endpoints?.restUrl,
    wsUrl: exchange.wsUrl ?? endpoints?.wsUrl,
  };
});

export type ExchangeConfig = SectionSettings<typeof exchangeSection>;

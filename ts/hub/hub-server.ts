// The hub server: its parts (sessions, input policing, control services, data plane, status, timers) put together.
import { randomBytes } from 'node:crypto';
import type { AlertFeed } from '../alerts/alert.js';
import { Logger } from '../log/logger.js';
import { HubBook } from '../native/hub.js';
import { HubMetrics } from './hub-metrics.js';
import type { HubHealth, HubStatus } from './hub-status.js';
import { isLoopbackAddress, loadServerTls, PLAIN_REFUSED } from './hub-tls.js';
import { toAlertWire } from './relayed-alerts.js';
import { Backpressure } from './server/backpressure.js';
import { CollectorLedger } from './server/collector-ledger.js';
import { ControlRouter } from './server/control-router.js';
import { DataPlane } from './server/data-plane.js';
import { type HubServerOptions, limitsOf, MIB } from './server/hub-options.js';
import { HubTimers } from './server/hub-timers.js';
import { InputPolice } from './server/input-police.js';
import { PeerHistory } from './server/peer-history.js';
import { PeerOutbox } from './server/peer-outbox.js';
import { AlertRelay } from './server/services/alert-relay.js';
import type { OpTable } from './server/services/control-service.js';
import { EventRelay } from './server/services/event-relay.js';
import { PeerService } from './server/services/peer-service.js';
import { CursorService, SlotService } from './server/services/poll-services.js';
import { RankService } from './server/services/rank-service.js';
import { SubscriptionService } from './server/services/subscription-service.js';
import { SymbolService } from './server/services/symbol-service.js';
import { WeightService } from './server/services/weight-service.js';
import { Sessions } from './server/sessions.js';
import { StatusBuilder } from './server/status-builder.js';
import { StatusRoutes } from './server/status-routes.js';
import { Subscriptions } from './server/subscriptions.js';
import { SymbolDirectory } from './symbol-directory.js';
import { CloseCode, type ConnectionHandlers, type HubConnection, type HubTransport } from './transport.js';
import { createTransport } from './transport-select.js';

export type { HubHealth, HubStatus, PeerHealth, PeerStatus } from './hub-status.js';
export type { BackpressureLimits } from './server/backpressure.js';
export type { HubServerOptions };

/**
 * The hub (DESIGN.md 4). Start with {@link HubServer.start}; stop with {@link HubServer.close}.
 * Wire and control protocol: docs/protocol.md, "Transport, authentication and services". Each
 * part has one job: `Sessions` (connections, authentication), `InputPolice` (limits, refusals),
 * the services behind the `ControlRouter` (one per service), the `DataPlane` (merge, publish,
 * snapshots) with `Subscriptions` and `Backpressure`, the `StatusBuilder`, and the `HubTimers`.
 */
export class HubServer {
  /**
   * The book: merge book, registry (following {@link HubServer.symbols}), topics, encoder. Read it
   * for checks; only the data plane writes it.
   */
  readonly book: HubBook;
  readonly symbols: SymbolDirectory;
  /** Random id of this hub instance, sent in `hello` and `welcome`. */
  readonly instance = randomBytes(8).toString('hex');
  readonly metrics = new HubMetrics();
  readonly #log: Logger;
  readonly #transport: HubTransport;
  readonly #host: string;
  readonly #sessions: Sessions;
  readonly #police: InputPolice;
  readonly #router: ControlRouter;
  readonly #dataPlane: DataPlane;
  readonly #backpressure: Backpressure;
  readonly #symbolService: SymbolService;
  readonly #weights: WeightService;
  readonly #status: StatusBuilder;
  readonly #alerts: AlertRelay;
  readonly #timers: HubTimers;
  readonly #offKeys: () => void;
  #port = 0;
  #closed = false;

  private constructor(options: HubServerOptions, transport: HubTransport, log: Logger) {
    const limits = limitsOf(options);
    this.#log = log;
    this.#transport = transport;
    this.#host = options.host ?? '127.0.0.1';
    this.symbols = new SymbolDirectory(options.symbols ?? []);
    // The book admits only the symbols the directory registered: ids beyond it are refused.
    const symbols = [...this.symbols.names];
    this.book = new HubBook(
      options.klineWindow === undefined ? { symbols } : { symbols, klineWindow: options.klineWindow },
    );
    this.symbols.onAdded((added) => this.book.addSymbols([...added]));
    const metrics = this.metrics;
    const outbox = new PeerOutbox(metrics);
    const close = (session: Parameters<Sessions['close']>[0], code: number, reason: string) =>
      this.#sessions.close(session, code, reason);
    this.#police = new InputPolice(limits, metrics, log, outbox, close);
    this.#sessions = new Sessions(
      {
        instance: this.instance,
        authTimeoutMs: limits.authTimeoutMs,
        heartbeatMs: limits.heartbeatMs,
        idleTimeoutMs: limits.idleTimeoutMs,
        maxMessageBytes: limits.maxMessageBytes,
      },
      options.keys,
      { police: this.#police, outbox, metrics, log, symbols: this.symbols },
    );
    const subscriptions = new Subscriptions(this.book);
    this.#backpressure = new Backpressure(limits.backpressure, metrics, log, subscriptions);
    outbox.guardWith(this.#backpressure);
    const ledger = new CollectorLedger();
    const history = new PeerHistory();
    this.#dataPlane = new DataPlane({
      book: this.book,
      transport,
      subscriptions,
      backpressure: this.#backpressure,
      outbox,
      police: this.#police,
      sessions: this.#sessions,
      ledger,
      metrics,
      log,
    });
    this.#backpressure.actWith({
      close,
      send: (session, message) => outbox.text(session, message),
      resendSnapshots: (session, streams) => this.#dataPlane.resendSnapshots(session, streams),
    });

    this.#symbolService = new SymbolService(this.symbols, this.#sessions, outbox, log, ledger);
    const cursors = new CursorService(this.symbols);
    const slots = new SlotService(this.#sessions, outbox);
    const ranks = new RankService(this.symbols, ledger);
    const events = new EventRelay(this.#sessions, subscriptions, outbox, metrics);
    this.#alerts = new AlertRelay(this.#sessions, outbox);
    this.#weights = new WeightService(this.#sessions, outbox, log.child('weight'));
    this.#status = new StatusBuilder({
      instance: this.instance,
      transport: transport.name,
      tls: transport.secure,
      startedAt: Date.now(),
      history,
      book: this.book,
      symbols: this.symbols,
      sessions: this.#sessions,
      subscriptions,
      slots: slots.slots,
      cursors,
      ranks,
      events,
      alerts: this.#alerts,
      ledger,
      metrics,
      keys: options.keys,
      weights: this.#weights,
    });
    const table: OpTable = {
      ...new PeerService(this.#status).ops(),
      ...this.#symbolService.ops(),
      ...cursors.ops(),
      ...slots.ops(),
      ...ranks.ops(),
      ...events.ops(),
      ...this.#alerts.ops(),
      ...this.#weights.ops(),
      ...new SubscriptionService({
        subscriptions,
        dataPlane: this.#dataPlane,
        symbols: this.symbols,
        metrics,
        log,
        maxStreamsPerPeer: options.maxStreamsPerPeer ?? 64,
      }).ops(),
    };
    this.#router = new ControlRouter(table, { police: this.#police, outbox, metrics, log });
    this.#sessions.hookWith({
      ready: (session) => {
        ledger.arrived(session);
        history.arrived(session.identity);
      },
      gone: (session) => {
        subscriptions.forget(session.id);
        slots.forget(session.id);
        events.forget(session.id);
        this.#alerts.forget(session.id);
        this.#weights.forget(session.id);
      },
    });
    this.#offKeys = options.keys.onChange(() => this.#sessions.recheckKeys());

    transport.onConnection((connection) => this.#accept(connection));
    new StatusRoutes(this.#status, options.keys, metrics, log).register(transport);
    this.#timers = new HubTimers(
      {
        heartbeatMs: limits.heartbeatMs,
        snapshotIntervalMs: options.snapshotIntervalMs ?? 30_000,
        resumeCheckMs: 100,
      },
      {
        heartbeat: () => this.#sessions.heartbeat(Date.now()),
        periodicSnapshots: () => this.#dataPlane.publishSnapshots(),
        resumeDrained: () => {
          for (const session of this.#sessions.peers()) this.#backpressure.resumeIfDrained(session);
        },
      },
    );
  }

  /** Starts a hub listening on `host:port`; resolves once it accepts connections. */
  static async start(options: HubServerOptions): Promise<HubServer> {
    const log = options.logger ?? new Logger('hub');
    const limits = limitsOf(options);
    const transport = createTransport(
      options.transport ?? 'auto',
      {
        maxPayloadBytes: limits.maxPayloadBytes,
        // Far above the hub's own bounds, so uWS never drops a message before the hub acts.
        maxBackpressureBytes: 1024 * MIB,
      },
      log,
      options.tls === undefined ? undefined : loadServerTls(options.tls),
    );
    const hub = new HubServer(options, transport, log);
    try {
      hub.#port = await transport.listen(hub.#host, options.port ?? 0);
    } catch (error) {
      await hub.close();
      throw error;
    }
    log.info('hub listening', {
      host: hub.#host,
      port: hub.#port,
      transport: transport.name,
      tls: transport.secure
        ? options.tls?.caFile === undefined
          ? 'server'
          : 'mutual'
        : 'off (loopback only)',
      hub: hub.instance,
      symbols: hub.symbols.names.length,
      keys: options.keys.state.active,
    });
    return hub;
  }

  get port(): number {
    return this.#port;
  }

  get transportName(): string {
    return this.#transport.name;
  }

  /** True when the hub speaks TLS. */
  get secure(): boolean {
    return this.#transport.secure;
  }

  /** `ws://host:port/` of the hub (`wss://` with TLS). */
  get url(): string {
    return `${this.#transport.secure ? 'wss' : 'ws'}://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${this.#port}/`;
  }

  /** Replaces the active symbol list (config or an operator); pushes `symbols` to every peer on change. */
  setSymbols(names: readonly string[]): boolean {
    return this.#symbolService.setActive(names);
  }

  /** The full status document (`GET /status/full`; what viewer and admin keys read). */
  status(): HubStatus {
    return this.#status.full();
  }

  /** The public health document (`GET /status`). */
  /**
   * Relays every alert the hub process raises (its watch over peers and data, its exchange-less
   * alerter) to the alert subscribers, as if the peer `hub` had published them. Returns the
   * function that stops it.
   */
  relayAlertsFrom(alerts: AlertFeed): () => void {
    return alerts.onAlert((alert) => this.#alerts.publishLocal('hub', [toAlertWire(alert)]));
  }

  health(): HubHealth {
    return this.#status.health();
  }

  /** Stops accepting, closes every connection (1001) and the timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.stop();
    this.#weights.close();
    this.#offKeys();
    this.#dataPlane.close();
    await this.#transport.close(CloseCode.goingAway, 'hub shutting down');
    this.#log.info('hub closed', { hub: this.instance });
  }

  #accept(connection: HubConnection): ConnectionHandlers {
    if (!this.#transport.secure && !isLoopbackAddress(connection.remoteAddress)) {
      // Without TLS the keys' MACs would still hold, but everything else (data, reports) would
      // cross the network readable: plain is for this machine only.
      this.metrics.closed('tls_required');
      this.#log.warn('plain connection from a non-loopback address refused: configure hub.tls', {
        remote: connection.remoteAddress,
        code: PLAIN_REFUSED.code,
      });
      connection.close(PLAIN_REFUSED.code, PLAIN_REFUSED.reason);
      return { message: () => {}, drain: () => {}, close: () => {} };
    }
    this.#sessions.accept(connection, Date.now());
    return {
      message: (data, isBinary) => this.#onMessage(connection.id, data, isBinary),
      drain: () => {
        const session = this.#sessions.get(connection.id);
        if (session?.state === 'ready') this.#backpressure.resumeIfDrained(session);
      },
      close: (code, reason) => this.#sessions.closed(connection.id, code, reason),
    };
  }

  #onMessage(connectionId: number, data: Buffer, isBinary: boolean): void {
    const session = this.#sessions.get(connectionId);
    if (session === undefined || session.closing) return;
    if (!this.#police.admit(session, data, isBinary, Date.now())) return;
    if (session.state === 'pending') this.#sessions.authenticate(session, data, isBinary);
    else if (isBinary) this.#dataPlane.ingest(session, data);
    else this.#router.handle(session, data.toString('utf8'));
  }
}

// Test rig: a simulator in this process, real `tributary gateway` processes against it, and in-process traders (demo strategy) sending through the gateway over HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningSimulator, startSimulator } from '../../../sim/simulator.js';
import { WallClock } from '../../../trader/engine/engine-clock.js';
import type { BarEvent } from '../../../trader/engine/events.js';
import type {
  AccountView,
  BarSeries,
  MarketData,
  PositionState,
} from '../../../trader/engine/market-data.js';
import { TradingEngine } from '../../../trader/engine/trading-engine.js';
import { ExchangeVenue } from '../../../trader/execution/exchange-venue.js';
import { GatewayVenue } from '../../../trader/execution/gateway-venue.js';
import { MemoryOrderJournal } from '../../../trader/execution/order-journal.js';
import { OrderSender } from '../../../trader/execution/order-sender.js';
import { SymbolRules } from '../../../trader/execution/symbol-rules.js';
import { DemoStrategy, demoConfig } from '../../../trader/strategies/demo/demo-strategy.js';
import { Decimal } from '../../../ts/exact/decimal.js';
import { RestClient } from '../../../ts/exchange/rest-client.js';
import { UsdmApi } from '../../../ts/exchange/usdm-api.js';
import { decodeOrders, type OrderRecord } from '../../../ts/exchange/usdm-decoders.js';
import { GatewayClient } from '../../../ts/gateway/gateway-client.js';
import { newKey, writeNewKeyFile } from '../../../ts/hub/key-file.js';
import type { ActiveKey } from '../../../ts/hub/peer-keys.js';
import { silentLogger } from '../../../ts/log/logger.js';
import { parseExchangeInfo } from '../../../ts/native/parse.js';
import { packageRoot } from '../../../ts/package-root.js';

const CLI = join(packageRoot, 'bin', 'tributary.js');
export const SYMBOL = 'BTCUSDT';

/** A running `tributary gateway` child. */
export interface GatewayChild {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Everything it wrote to stderr (its log). */
  output(): string;
}

/** The market the traders share: bars are pushed by the test, prices are the simulator's, fixed per bar. */
class SharedMarket implements MarketData {
  price: Decimal = Decimal.ONE;
  symbols(): readonly string[] {
    return [SYMBOL];
  }
  series(): BarSeries {
    // The demo needs one bar held (its warm-up); it reads the bar event itself.
    return { length: 1, values: () => new Float64Array(1) };
  }
  lastPrice(): number {
    return Number(this.price.toString());
  }
  lastPriceExact(): Decimal {
    return this.price;
  }
  quote(): undefined {
    return undefined;
  }
}

/** The simulated account as every trader sees it (they trade one account, as redundant traders do). */
class SimAccount implements AccountView {
  constructor(private readonly sim: RunningSimulator) {}
  position(symbol: string): PositionState {
    const p = this.sim.engine
      .accountTruth('account-1')
      .positions.find((x) => x.symbol === symbol && x.positionSide === 'BOTH');
    return {
      amount: Decimal.parse(p?.positionAmt ?? '0'),
      entryPrice: Decimal.parse(p?.entryPrice ?? '0'),
      // The truth is current: every fill up to the simulator's now is in it.
      updateTime: this.sim.clock.now(),
    };
  }
  equity(): Decimal {
    return Decimal.parse('10000');
  }
  available(): Decimal {
    return Decimal.parse('10000');
  }
  openPositions(): string[] {
    return this.position(SYMBOL).amount.isZero() ? [] : [SYMBOL];
  }
  positionsKnown(): boolean {
    return true;
  }
}

/** The simulator, the key file and the configuration the gateways and traders share. */
export class GatewayRig {
  readonly dir = mkdtempSync(join(tmpdir(), 'tributary-gateway-'));
  readonly keysFile = join(this.dir, 'keys.json');
  readonly market = new SharedMarket();
  readonly #children: ChildProcess[] = [];
  readonly #rests: RestClient[] = [];
  #bar = 0;
  /** Start of the first bar: a whole minute, so signal times look like real bar closes. */
  readonly #t0 = Math.floor(Date.now() / 60_000) * 60_000;

  private constructor(
    readonly sim: RunningSimulator,
    readonly apiKey: string,
    readonly apiSecret: string,
    /** trader-0, trader-1, trader-2 and a viewer. */
    readonly keys: ActiveKey[],
  ) {}

  static async start(): Promise<GatewayRig> {
    const apiKey = randomBytes(16).toString('hex');
    const apiSecret = randomBytes(32).toString('hex');
    const sim = await startSimulator(
      {
        port: 0,
        seed: 11,
        accounts: [{ apiKey, apiSecret, balances: { USDT: '100000' } }],
        source: { kind: 'random-walk', tradesPerSecond: 20 },
      },
      { logger: silentLogger('sim') },
    );
    const keys = [0, 1, 2].map((i) =>
      newKey({ role: 'trader', peers: [`trader-${i}`], label: `trader ${i}` }),
    );
    keys.push(newKey({ role: 'viewer', peers: ['viewer'], label: 'viewer' }));
    const rig = new GatewayRig(sim, apiKey, apiSecret, keys);
    await writeNewKeyFile(rig.keysFile, keys);
    return rig;
  }

  /** Writes a configuration for a gateway in `mode` (split: members trader-0..2) and returns its path. */
  config(name: string, mode: 'first' | 'split'): string {
    const path = join(this.dir, `${name}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        exchange: { kind: 'simulator', restUrl: this.sim.restUrl, wsUrl: this.sim.wsUrl, recvWindow: 2000 },
        gateway: {
          enabled: true,
          mode,
          ...(mode === 'split' ? { members: ['trader-0', 'trader-1', 'trader-2'] } : {}),
          claimLog: join(this.dir, `${name}-claims.jsonl`),
          placeWithinMs: 120_000,
        },
      }),
    );
    return path;
  }

  /** Starts `tributary gateway` (port 0 picks one; `env` and `args` added); resolves once it listens. */
  async gateway(
    config: string,
    port = 0,
    env: Record<string, string> = {},
    args: readonly string[] = [],
  ): Promise<GatewayChild> {
    const proc = spawn(
      process.execPath,
      [CLI, 'gateway', '--config', config, '--keys', this.keysFile, '--port', String(port), ...args],
      {
        env: {
          PATH: process.env.PATH,
          BINANCE_API_KEY: this.apiKey,
          BINANCE_API_SECRET: this.apiSecret,
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.#children.push(proc);
    let output = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`gateway did not start:\n${output.slice(-3000)}`)),
        30_000,
      );
      const onData = (): void => {
        const line = output.split('\n').find((l) => l.includes('"msg":"gateway listening"'));
        if (line === undefined) return;
        clearTimeout(timer);
        proc.stderr?.off('data', onData);
        resolve(String((JSON.parse(line) as { url: string }).url));
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with ${code}:\n${output.slice(-3000)}`));
      });
    });
    proc.removeAllListeners('exit');
    return { proc, url, port: Number(new URL(url).port), output: () => output };
  }

  /** An API client of the simulated account. */
  api(): UsdmApi {
    const rest = new RestClient({
      baseUrl: this.sim.restUrl,
      apiKey: this.apiKey,
      apiSecret: this.apiSecret,
    });
    this.#rests.push(rest);
    return new UsdmApi(rest);
  }

  /** A gateway client signed with trader `index`'s key (or another key and name). */
  client(url: string, index: number, key: ActiveKey | undefined = this.keys[index]): GatewayClient {
    if (key === undefined) throw new Error(`no key ${index}`);
    return new GatewayClient({
      url,
      credentials: { keyId: key.id, secret: key.secret, peer: `trader-${index}` },
      logger: silentLogger(`gateway-client-${index}`),
      maxAttempts: 60,
      maxTotalMs: 120_000,
    });
  }

  /** Trader `index`: the demo strategy in its own engine, its orders through the gateway at `url`. */
  async trader(url: string, index: number, split = false): Promise<TradingEngine> {
    const api = this.api();
    const info = parseExchangeInfo((await api.exchangeInfo()).body);
    const sender = new OrderSender(api, { logger: silentLogger('orders'), recovery: { queryDelayMs: 50 } });
    // User events as the hub relays them to every trader of the account: the account's, all of them.
    const events = {
      onUserEvent: (listener: (json: string) => void) =>
        this.sim.engine.onUserEvent((_account, event) => listener(JSON.stringify(event))),
    };
    const exchange = new ExchangeVenue('sim', sender, events);
    const engine = new TradingEngine({
      // The same name in every trader: the same decision gets the same client order id everywhere.
      name: 'demo',
      strategy: new DemoStrategy(demoConfig.parse({ symbols: [SYMBOL], notional: '700' })),
      market: this.market,
      account: new SimAccount(this.sim),
      venue: new GatewayVenue(
        exchange,
        this.client(url, index),
        silentLogger(`gateway-venue-${index}`),
        split ? index : undefined,
      ),
      rules: new SymbolRules(info.symbols.filter((s) => s.tradable)),
      clock: new WallClock(),
      journal: new MemoryOrderJournal(),
      logger: silentLogger(`trader-${index}`),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    await engine.start();
    return engine;
  }

  /**
   * Closes the next 1-minute bar in every trader at once: up 2 % (the demo opens when flat) or
   * down 1 % (it closes a long). Returns the work of every trader (resolves when all are idle).
   */
  bar(traders: readonly TradingEngine[], move: 'up' | 'down'): Promise<void> {
    this.market.price = this.sim.market.lastPrice(SYMBOL);
    const openTime = this.#t0 + this.#bar * 60_000;
    this.#bar += 1;
    const close = move === 'up' ? 102 : 99;
    const event: BarEvent = {
      type: 'bar',
      symbol: SYMBOL,
      interval: '1m',
      openTime,
      closeTime: openTime + 59_999,
      open: 100,
      high: Math.max(100, close),
      low: Math.min(100, close),
      close,
      volume: 1,
      time: Date.now(),
    };
    const work = traders.map((t) => t.push(event));
    return Promise.all(work.map((w) => w ?? Promise.resolve())).then(() =>
      Promise.all(traders.map((t) => t.idle())).then(() => undefined),
    );
  }

  /** Every order the simulated account has for `SYMBOL`, read inside the simulator (no request counted). */
  orders(): OrderRecord[] {
    const handler = this.sim.engine
      .endpoints()
      .find((e) => e.method === 'GET' && e.path === '/fapi/v1/allOrders');
    if (handler === undefined) throw new Error('the simulator has no allOrders endpoint');
    return decodeOrders(
      handler.handle({
        params: { symbol: SYMBOL, limit: '1000' },
        accountId: 'account-1',
        now: this.sim.clock.now(),
      }),
    );
  }

  /** The account's position in `SYMBOL`. */
  position(): Decimal {
    return new SimAccount(this.sim).position(SYMBOL).amount;
  }

  async stop(): Promise<void> {
    for (const proc of this.#children) await killHard(proc);
    for (const rest of this.#rests) rest.close();
    await this.sim.stop();
  }
}

/** SIGKILL: the process gets no chance to finish anything. */
export function killHard(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

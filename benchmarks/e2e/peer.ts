// A peer process of the end-to-end benchmark (hub, relay, collector or subscriber), driven by the coordinator over IPC.

import { HubClient } from '../../ts/hub/hub-client.js';
import { HubServer } from '../../ts/hub/hub-server.js';
import { TraderFeed } from '../../ts/hub/trader-feed.js';
import { Logger } from '../../ts/log/logger.js';
import { IngestEncoder } from '../../ts/native/hub.js';
import { AppliedUpdates } from './applied-updates.js';
import { benchKey, benchKeyRing } from './bench-keys.js';
import { monotonicMs } from './clock.js';
import { DeliveryLog } from './delivery-log.js';
import { e2eSymbols, frameUpdates, MarketStream, seriesCount } from './market-stream.js';
import { PaceSchedule } from './pacing.js';
import { percentile99 } from './phase-summary.js';
import type { CoordinatorMessage, PeerMessage } from './protocol.js';
import { RelayServer } from './relay-server.js';
import { UsageWindow } from './usage-window.js';

/** A peer could not do what the coordinator asked. */
export class PeerError extends Error {
  override readonly name = 'PeerError';
}

type Init = Extract<CoordinatorMessage, { type: 'init' }>;
type Start = Extract<CoordinatorMessage, { type: 'start' }>;
type Collect = Extract<CoordinatorMessage, { type: 'collect' }>;

/** What every role does with the coordinator's messages. */
interface Role {
  prepare?(phase: number, rate: number, durationMs: number): PeerMessage;
  start(message: Start): void;
  collect(message: Collect, usage: UsageWindow): Promise<PeerMessage>;
  close(): Promise<void>;
}

function post(message: PeerMessage): void {
  process.send?.(message);
}

const log = new Logger('bench.e2e', { level: 'warn' });

async function serverRole(init: Init): Promise<Role> {
  if (init.role === 'hub') {
    const hub = await HubServer.start({
      keys: benchKeyRing(init.secret),
      transport: init.transport,
      symbols: e2eSymbols(init.universe),
      logger: log.child('hub'),
    });
    post({ type: 'ready', port: hub.port });
    return {
      start: () => {},
      collect: async (m, usage) => {
        const status = hub.status();
        return {
          type: 'collected',
          phase: m.phase,
          usage: await usage.result(),
          notes: {
            recordsChanged: status.merge.recordsChanged,
            deltaFrames: status.merge.deltaFrames,
            snapshotMode: status.backpressure.snapshotMode,
            rejected: Object.values(status.rejected).reduce((a, b) => a + b, 0),
          },
        };
      },
      close: () => hub.close(),
    };
  }
  const relay = await RelayServer.start({
    secret: init.secret,
    transport: init.transport,
    symbols: e2eSymbols(init.universe),
    logger: log.child('relay'),
  });
  post({ type: 'ready', port: relay.port });
  return {
    start: () => {},
    collect: async (m, usage) => ({
      type: 'collected',
      phase: m.phase,
      usage: await usage.result(),
      notes: {
        framesIn: relay.stats.framesIn,
        framesOut: relay.stats.framesOut,
        refused: relay.stats.refused,
      },
    }),
    close: () => relay.close(),
  };
}

async function collectorRole(init: Init): Promise<Role> {
  const client = new HubClient({
    url: init.url,
    peer: init.name,
    kind: 'bench',
    key: benchKey('collector', init.secret),
    logger: log.child('collector'),
  });
  const welcome = await client.connect();
  const encoder = new IngestEncoder(welcome.symbols);
  const stream = new MarketStream(init.universe);
  let plan: { phase: number; schedule: PaceSchedule; first: number; frames: Buffer[] } | undefined;
  let sending: Promise<{ sendTimes: Float64Array; lags: Float64Array; unsent: number }> | undefined;
  post({ type: 'ready' });

  /** Sends every tick on the shared clock; message times are taken just before each frame's send. */
  function pump(
    schedule: PaceSchedule,
    frames: Buffer[],
    startAt: number,
  ): Promise<{ sendTimes: Float64Array; lags: Float64Array; unsent: number }> {
    const sendTimes = new Float64Array(schedule.messages).fill(Number.NaN);
    const lags = new Float64Array(schedule.ticks);
    let next = 0;
    let unsent = 0;
    return new Promise((resolve) => {
      const wake = (): void => {
        const now = monotonicMs();
        const end = schedule.dueThrough(next, now - startAt);
        for (; next < end; next++) {
          const frame = frames[next];
          // Ticks without messages (rates under 1k/s) hold an empty frame: nothing to send.
          if (frame === undefined || frame.length === 0) continue;
          const [from, to] = schedule.range(next);
          const at = monotonicMs();
          lags[next] = at - (startAt + next);
          if (client.sendIngest(frame)) sendTimes.fill(at, from, to);
          else unsent += to - from;
        }
        if (next >= schedule.ticks) resolve({ sendTimes, lags, unsent });
        else setTimeout(wake, Math.max(0, startAt + next - monotonicMs()));
      };
      setTimeout(wake, Math.max(0, startAt - monotonicMs()));
    });
  }

  return {
    prepare: (phase, rate, durationMs) => {
      const schedule = new PaceSchedule(rate, durationMs);
      const first = stream.position;
      const frames: Buffer[] = [];
      let bytes = 0;
      for (let tick = 0; tick < schedule.ticks; tick++) {
        const [from, to] = schedule.range(tick);
        if (to === from) {
          frames.push(Buffer.alloc(0));
          continue;
        }
        const pushed = encoder.pushMarketEvents(stream.take(to - from));
        if (pushed.failures.length > 0 || encoder.unknownSymbols > 0)
          throw new PeerError(
            `tick ${tick}: the encoder refused messages (${pushed.failures[0]?.message ?? 'unknown symbol'})`,
          );
        const frame = encoder.takeFrame(client.peerId, Date.now());
        if (frame === null) throw new PeerError(`tick ${tick}: no frame for ${to - from} messages`);
        bytes += frame.length;
        frames.push(frame);
      }
      plan = { phase, schedule, first, frames };
      return { type: 'prepared', phase, first, count: schedule.messages, frames: frames.length, bytes };
    },
    start: (m) => {
      if (plan === undefined || plan.phase !== m.phase)
        throw new PeerError(`phase ${m.phase} was not prepared`);
      if (plan.first !== m.first || plan.schedule.messages !== m.count)
        throw new PeerError(
          `phase ${m.phase}: prepared [${plan.first}, +${plan.schedule.messages}), asked [${m.first}, +${m.count})`,
        );
      sending = pump(plan.schedule, plan.frames, m.startAt);
    },
    collect: async (m, usage) => {
      if (sending === undefined) throw new PeerError(`phase ${m.phase} was not started`);
      const { sendTimes, lags, unsent } = await sending;
      sending = undefined;
      return {
        type: 'collected',
        phase: m.phase,
        usage: await usage.result(),
        sendTimes,
        notes: { lagP99Ms: percentile99(lags), lagMaxMs: Math.max(...lags), unsent },
      };
    },
    close: () => client.close(),
  };
}

async function subscriberRole(init: Init): Promise<Role> {
  const client = new HubClient({
    url: init.url,
    peer: init.name,
    key: benchKey('trader', init.secret),
    logger: log.child(init.name),
  });
  let feed: TraderFeed | undefined;
  if (init.role === 'trader') {
    feed = new TraderFeed({
      client,
      subscriptions: [{ symbols: '*', kinds: ['kline', 'tick'], intervals: [...init.universe.intervals] }],
      logger: log.child(`${init.name}.feed`),
    });
    await feed.start();
  } else {
    await client.connect();
  }
  let modeSwitches = 0;
  client.onMessage((message) => {
    if (message.op === 'mode') modeSwitches += 1;
  });
  const deliveries = new DeliveryLog(seriesCount(init.universe));
  if (feed !== undefined) {
    // A trader learns what a frame wrote from its book's changes, right after the apply (the
    // feed calls its listeners then), as a strategy would: no second decoding of the frame.
    const applied = new AppliedUpdates(feed.book, init.universe);
    feed.onUpdate(() => {
      const now = monotonicMs();
      applied.visit((series, j) => deliveries.deliver(series, j, now));
    });
  } else {
    client.onFrames((frames) => {
      const now = monotonicMs();
      const visit = (series: number, j: number): void => deliveries.deliver(series, j, now);
      for (const frame of frames) frameUpdates(frame, visit, init.universe);
    });
  }
  post({ type: 'ready' });
  return {
    start: (m) => deliveries.begin(m.first, m.count),
    collect: async (m, usage) => {
      while (!deliveries.complete && monotonicMs() < m.drainUntil) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return {
        type: 'collected',
        phase: m.phase,
        usage: await usage.result(),
        arrivals: deliveries.arrivals,
        notes: {
          delivered: deliveries.delivered,
          gaps: (feed?.stats.gaps ?? 0) + modeSwitches,
          framesApplied: feed?.stats.framesApplied ?? 0,
        },
      };
    },
    close: async () => {
      feed?.stop();
      await client.close();
    },
  };
}

async function main(): Promise<void> {
  let role: Role | undefined;
  let usage: UsageWindow | undefined;
  const fail = (error: unknown): void => {
    post({
      type: 'failed',
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  };
  // The coordinator is gone: nobody will ever stop us, so stop now.
  process.on('disconnect', () => process.exit(2));
  process.on('message', (raw: CoordinatorMessage) => {
    void (async () => {
      switch (raw.type) {
        case 'init':
          role =
            raw.role === 'hub' || raw.role === 'relay'
              ? await serverRole(raw)
              : raw.role === 'collector'
                ? await collectorRole(raw)
                : await subscriberRole(raw);
          return;
        case 'prepare': {
          const reply = role?.prepare?.(raw.phase, raw.rate, raw.durationMs);
          if (reply === undefined) throw new PeerError('prepare sent to a peer that does not send');
          post(reply);
          return;
        }
        case 'start':
          if (role === undefined) throw new PeerError('start before init');
          usage?.cancel();
          usage = new UsageWindow(raw.windowStart, raw.windowEnd);
          role.start(raw);
          post({ type: 'started', phase: raw.phase });
          return;
        case 'collect':
          if (role === undefined || usage === undefined) throw new PeerError('collect before start');
          post(await role.collect(raw, usage));
          return;
        case 'stop':
          usage?.cancel();
          await role?.close();
          process.exit(0);
      }
    })().catch(fail);
  });
}

void main();

// The part of the hub connection collectors use, and the Ingest frames they send through it.
import type { HubClient } from '../ts/hub/hub-client.js';
import type { Logger } from '../ts/log/logger.js';
import { IngestEncoder } from '../ts/native/hub.js';

/** The hub as a collector sees it (a `HubClient` with role `collector`). */
export type CollectorHub = Pick<
  HubClient,
  | 'state'
  | 'symbols'
  | 'peerId'
  | 'onState'
  | 'onMessage'
  | 'sendIngest'
  | 'publishEvents'
  | 'cursorNext'
  | 'registerSlot'
  | 'releaseSlot'
  | 'fetchSymbols'
  | 'setSymbols'
  | 'ranks'
  | 'setRanks'
>;

/** Frame counters of an `IngestLink`. */
export interface IngestCounters {
  framesSent: number;
  framesDropped: number;
  recordsSent: number;
}

/**
 * Keeps an `IngestEncoder` on the hub's symbol registry (ids are registry positions, so the encoder
 * is rebuilt when the hub's list stops being an extension of ours, e.g. after a hub restart with a
 * new universe) and sends its frames to the hub. Frames built while the hub is away are dropped
 * and counted: collectors poll again, so the next poll carries the current state.
 */
export class IngestLink {
  readonly #hub: CollectorHub;
  readonly #log: Logger;
  #symbols: string[] = [];
  #encoder = new IngestEncoder([]);
  readonly counters: IngestCounters = { framesSent: 0, framesDropped: 0, recordsSent: 0 };
  readonly #unsubscribe: (() => void)[] = [];

  constructor(hub: CollectorHub, logger: Logger) {
    this.#hub = hub;
    this.#log = logger;
    this.#sync(hub.symbols);
    this.#unsubscribe.push(
      hub.onState((state) => {
        if (state === 'ready') this.#sync(hub.symbols);
      }),
      hub.onMessage((message) => {
        if (message.op === 'symbols') this.#sync(message.symbols);
      }),
    );
  }

  /** The encoder to push records into; re-read it after an `await`, it may have been rebuilt. */
  get encoder(): IngestEncoder {
    return this.#encoder;
  }

  /** Symbol names in registry order (index = id). */
  get symbols(): readonly string[] {
    return this.#symbols;
  }

  /** The hub's id of `symbol`, or undefined when the registry does not list it. */
  symbolId(symbol: string): number | undefined {
    return this.#encoder.symbolId(symbol) ?? undefined;
  }

  /** Whether the hub is connected and has a registry. */
  get ready(): boolean {
    return this.#hub.state === 'ready' && this.#symbols.length > 0;
  }

  #sync(symbols: readonly string[]): void {
    const extends_ =
      symbols.length >= this.#symbols.length && this.#symbols.every((s, i) => symbols[i] === s);
    if (extends_) {
      const added = symbols.slice(this.#symbols.length);
      if (added.length > 0) this.#encoder.addSymbols([...added]);
    } else {
      this.#log.warn('hub symbol registry changed order; rebuilding the encoder', {
        before: this.#symbols.length,
        after: symbols.length,
      });
      this.#encoder = new IngestEncoder([...symbols]);
    }
    this.#symbols = [...symbols];
  }

  /** Sends every pending record as one Ingest frame; true when a frame went to the hub. */
  flush(now: number = Date.now()): boolean {
    const records = this.#encoder.pending;
    const frame = this.#encoder.takeFrame(this.#hub.peerId, now);
    if (frame === null) return false;
    if (this.#hub.state !== 'ready' || !this.#hub.sendIngest(frame)) {
      this.counters.framesDropped += 1;
      return false;
    }
    this.counters.framesSent += 1;
    this.counters.recordsSent += records;
    return true;
  }

  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }
}

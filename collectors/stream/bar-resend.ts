// A stream collector's recent complete bars sent again when the hub is back after being away: the frames that carried them were dropped.
import type { Logger } from '../../ts/log/logger.js';
import type { StreamBars } from '../../ts/native/bar-aggregator.js';
import type { CollectorHub, IngestLink } from '../collector-hub.js';

/** What {@link BarResend} did since the collector started. */
export interface BarResendCounters {
  /** Times the hub came back and the retained bars were sent again. */
  resends: number;
  /** Bars sent again over all resends (closed bars and open bars). */
  barsResent: number;
}

/**
 * The hub keeps its book in memory and the `IngestLink` drops frames built while the hub is away.
 * For open bars, ticks and marks that is fine (the next update carries the current state), but a
 * bar that closed meanwhile is never sent again by the stream, and the REST kline pollers go round
 * the universe one symbol at a time (10 min at 600 symbols). So when the hub is `ready` again after
 * having been away (not on the first `ready`), every symbol's retained complete bars
 * ({@link StreamBars.resend}: the last 30 minutes' worth per interval, and the open bars) go to
 * it again, a symbol at a time in frames under the hub's cap. A hub that has them merges them as
 * unchanged (closed bars are final there). A restarted hub whose registry is still empty gets them
 * when its registry arrives (the universe collector re-publishes it).
 */
export class BarResend {
  readonly counters: BarResendCounters = { resends: 0, barsResent: 0 };
  readonly #hub: CollectorHub;
  readonly #link: IngestLink;
  readonly #logger: Logger;
  readonly #bars: ReadonlyMap<string, StreamBars>;
  readonly #intervals: number;
  /**
   * Where the hub connection stands for the resend: never ready since watching began (its first
   * `ready` sends nothing), ready, away after having been ready, or back with the resend due (it
   * waits for the hub's registry).
   */
  #hubIs: 'new' | 'ready' | 'away' | 'back' = 'new';

  /** `bars`: the collector's bars by symbol (read at each resend); `intervals`: the intervals each builds. */
  constructor(
    hub: CollectorHub,
    link: IngestLink,
    logger: Logger,
    bars: ReadonlyMap<string, StreamBars>,
    intervals: number,
  ) {
    this.#hub = hub;
    this.#link = link;
    this.#logger = logger;
    this.#bars = bars;
    this.#intervals = intervals;
  }

  /**
   * Follows the hub connection from now on (a hub already ready counts as the first `ready`);
   * returns the function that stops it. Register after the link's own listeners (the link is
   * built first), so the link has synced the hub's registry when this runs.
   */
  watch(): () => void {
    if (this.#hub.state === 'ready') this.#hubIs = 'ready';
    const offState = this.#hub.onState((state) => {
      if (state !== 'ready') {
        // Gone again before the resend went: it is still due when the hub is back.
        if (this.#hubIs !== 'new') this.#hubIs = 'away';
        return;
      }
      if (this.#hubIs === 'away') this.#hubIs = 'back';
      else if (this.#hubIs === 'new') this.#hubIs = 'ready';
      this.#resendIfDue();
    });
    const offMessage = this.#hub.onMessage((message) => {
      if (message.op === 'symbols') this.#resendIfDue();
    });
    return () => {
      offState();
      offMessage();
    };
  }

  /** Sends every symbol's retained bars when the hub is back and has a registry. */
  #resendIfDue(): void {
    if (this.#hubIs !== 'back' || !this.#link.ready) return;
    this.#hubIs = 'ready';
    let bars = 0;
    let symbols = 0;
    for (const stream of this.#bars.values()) {
      // A symbol's bars in one piece: at most 32 closed and one open bar per interval.
      this.#link.makeRoom(stream.retainedBars + this.#intervals);
      const pushed = stream.resend(this.#link.currentEncoder);
      bars += pushed;
      if (pushed > 0) symbols += 1;
    }
    this.#link.flush();
    this.counters.resends += 1;
    this.counters.barsResent += bars;
    this.#logger.info('hub back after being away: recent closed bars sent again', { bars, symbols });
  }
}

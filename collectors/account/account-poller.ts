// Polls positions and balances from the account endpoint or positionRisk, with their exchange update times.
import type { Collector, CollectorStatus } from '../collector.js';
import { type CollectorContext, pollStatus } from '../collector-context.js';
import { PollLoop } from '../poll-loop.js';

export interface AccountPollerOptions {
  /** `account`: `GET /fapi/v3/account` (positions + balances); `position-risk`: `GET /fapi/v3/positionRisk`. */
  readonly kind: 'account' | 'position-risk';
  readonly version: 'v3' | 'v2';
  readonly intervalMs: number;
}

/**
 * One of the three account sources (with the user-data stream): each record carries the
 * exchange's `updateTime`, and the hub keeps the newest whichever source delivers it first.
 */
export class AccountPoller implements Collector {
  readonly kind: 'account' | 'position-risk';
  readonly #ctx: CollectorContext;
  readonly #options: AccountPollerOptions;
  readonly #loop: PollLoop;
  #records = 0;
  /** Records of the last poll skipped because the hub's registry lacks their symbol. */
  #unknownSymbols = 0;

  constructor(ctx: CollectorContext, options: AccountPollerOptions) {
    this.kind = options.kind;
    this.#ctx = ctx;
    this.#options = options;
    this.#loop = new PollLoop({ intervalMs: options.intervalMs, logger: ctx.logger }, () => this.poll());
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  status(): CollectorStatus {
    return pollStatus(this.kind, this.#loop, this.#ctx.link, {
      records: this.#records,
      unknownSymbols: this.#unknownSymbols,
    });
  }

  /** One poll now (also used by the user-stream collector to reconcile after a gap). */
  async poll(): Promise<void> {
    const { api, link } = this.#ctx;
    if (!link.ready) return;
    const v3 = this.#options.version === 'v3';
    // Both versions list the whole account (v3 without its flat symbols): as of when the request
    // left, which the exchange had surely reached when it made the list.
    const response =
      this.kind === 'account'
        ? await (v3 ? api.accountV3() : api.accountV2())
        : await (v3 ? api.positionRiskV3() : api.positionRiskV2());
    // Read right around the push: a reconnection during the request may have replaced the encoder.
    const skippedBefore = link.currentEncoder.unknownSymbols;
    this.#records +=
      this.kind === 'account'
        ? link.encoder.pushAccount(response.body, response.serverSentAtMs)
        : link.encoder.pushPositionRisk(response.body, response.serverSentAtMs);
    // A position in a symbol the registry lacks (listed since the last universe refresh, or left
    // out of it) reaches no trader or risk rule: logged whenever the number changes, not every poll.
    const unknown = link.currentEncoder.unknownSymbols - skippedBefore;
    if (unknown !== this.#unknownSymbols) {
      this.#ctx.logger.warn('account records skipped: symbol not in the hub registry', {
        skipped: unknown,
        before: this.#unknownSymbols,
      });
    }
    this.#unknownSymbols = unknown;
    link.flush();
  }
}

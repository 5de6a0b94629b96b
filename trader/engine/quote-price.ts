// Whether the book's best bid and ask make a usable price: the mid of a sane quote, or why the quote is no price.
import { Decimal } from '../../ts/exact/decimal.js';
import type { Quote } from './market-data.js';

/** A spread (ask − bid) wider than this share of the mid is a broken quote, not a market. */
export const MAX_SPREAD_SHARE = Decimal.parse('0.1');
/** A mid further than this share from the last trade disagrees with the market's own trades. */
export const MAX_MID_FROM_LAST = Decimal.parse('0.2');

const TWO = Decimal.fromInt(2);
const percent = (share: Decimal): string => share.mul(Decimal.fromInt(100)).normalize().toString();

/** The mid of a quote that passed every check, or the reason it is no price. */
export type QuoteMid = { readonly mid: Decimal } | { readonly refused: string };

/** What a quote is checked against besides itself (each check is skipped when its input is absent). */
export interface QuoteChecks {
  /** The symbol's tick size: a bid or ask under one tick is no price. */
  readonly tickSize?: Decimal | undefined;
  /** The last trade price: a mid more than {@link MAX_MID_FROM_LAST} away from it is no price. */
  readonly last?: Decimal | undefined;
}

/**
 * The middle of `quote`, or why it is no price: a bid or ask not positive or under one tick, a
 * crossed book (bid over ask), a spread over {@link MAX_SPREAD_SHARE} of the mid, or a mid more than
 * {@link MAX_MID_FROM_LAST} away from the last trade. A half-empty book (bid 1e-18 beside an ask of
 * 100) has a positive mid of ~50: acted on, it would force-close every long entered near 100.
 */
export function quoteMid(quote: Quote, checks: QuoteChecks = {}): QuoteMid {
  const { bid, ask } = quote;
  if (bid.sign() <= 0 || ask.sign() <= 0)
    return { refused: `bid ${bid.toString()} or ask ${ask.toString()} is not a positive price` };
  const tick = checks.tickSize;
  if (tick !== undefined && tick.sign() > 0 && (bid.lt(tick) || ask.lt(tick)))
    return {
      refused: `bid ${bid.toString()} or ask ${ask.toString()} is under the tick size ${tick.toString()}`,
    };
  if (bid.gt(ask)) return { refused: `crossed: bid ${bid.toString()} is over ask ${ask.toString()}` };
  const mid = bid.add(ask).div(TWO, 12);
  if (ask.sub(bid).gt(mid.mul(MAX_SPREAD_SHARE)))
    return {
      refused: `spread ${ask.sub(bid).toString()} (bid ${bid.toString()}, ask ${ask.toString()}) is over ${percent(MAX_SPREAD_SHARE)} % of the mid`,
    };
  const last = checks.last;
  if (last !== undefined && last.sign() > 0 && mid.sub(last).abs().gt(last.mul(MAX_MID_FROM_LAST)))
    return {
      refused: `mid ${mid.toFixed(8)} is more than ${percent(MAX_MID_FROM_LAST)} % from the last trade ${last.toString()}`,
    };
  return { mid };
}

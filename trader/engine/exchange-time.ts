// Exchange times judged against the engine's clock before the trader keeps or compares them: one absurd time must not freeze a comparison.

/**
 * How far ahead of the engine's clock an exchange time may be: the hub admits no more (its
 * admission's default), and exchange and trader clocks agree within milliseconds under NTP.
 */
export const MAX_FUTURE_MS = 30_000;

/** How far behind the engine's clock an exchange time may be: ten years (a time in seconds is far older). */
export const MAX_AGE_MS = 3_653 * 86_400_000;

/**
 * An exchange time the trader refuses to act on: not a finite number, later than the clock allows
 * (a time in µs or ns is 1,000× too large and would win every later comparison), or absurdly old
 * (a time in seconds, a zero). The record it came with is still used; only the time is not.
 */
export class ImplausibleTimeError extends Error {
  override readonly name = 'ImplausibleTimeError';

  constructor(
    readonly field: string,
    readonly time: number,
    readonly now: number,
  ) {
    super(
      !Number.isFinite(time)
        ? `${field} ${time} is not a time`
        : time > now
          ? `${field} ${time} is ${time - now} ms after the clock ${now} (a time in µs or ns?)`
          : `${field} ${time} is ${now - time} ms before the clock ${now} (a time in seconds?)`,
    );
  }
}

/** `undefined` when `time` lies within [now − MAX_AGE_MS, now + MAX_FUTURE_MS], else why it does not. */
export function checkExchangeTime(
  field: string,
  time: number,
  now: number,
): ImplausibleTimeError | undefined {
  if (Number.isFinite(time) && time <= now + MAX_FUTURE_MS && time >= now - MAX_AGE_MS) return undefined;
  return new ImplausibleTimeError(field, time, now);
}

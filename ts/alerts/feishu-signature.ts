// The signature of Feishu/Lark custom-bot requests: HMAC-SHA256 keyed by `timestamp + "\n" + secret` over an empty message, base64.
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How far a request's timestamp may be from the bot's clock: Feishu refuses a signed request whose
 * timestamp is more than one hour (3,600 s) from the current time.
 */
export const FEISHU_TIMESTAMP_TOLERANCE_SECONDS = 3600;

/**
 * The `sign` field of a signed custom-bot request, as Feishu's custom-bot guide documents it: the
 * string `timestamp + "\n" + secret` is the HMAC-SHA256 key, the message is empty, the digest is
 * base64-encoded. `timestampSeconds` is Unix time in seconds (sent as the `timestamp` field).
 */
export function feishuSignature(timestampSeconds: number, secret: string): string {
  const key = `${timestampSeconds}\n${secret}`;
  return createHmac('sha256', key).update(Buffer.alloc(0)).digest('base64');
}

/** Why a signed request was refused (`undefined` when it is accepted). */
export type FeishuSignatureProblem = 'missing' | 'stale' | 'mismatch';

/**
 * Checks a request's `timestamp` and `sign` fields the way the bot does: both present, the
 * timestamp within an hour of `nowSeconds`, the signature equal (compared in constant time).
 */
export function checkFeishuSignature(
  timestamp: unknown,
  sign: unknown,
  secret: string,
  nowSeconds: number,
): FeishuSignatureProblem | undefined {
  if (typeof sign !== 'string' || (typeof timestamp !== 'string' && typeof timestamp !== 'number')) {
    return 'missing';
  }
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds)) return 'missing';
  if (Math.abs(nowSeconds - seconds) > FEISHU_TIMESTAMP_TOLERANCE_SECONDS) return 'stale';
  const expected = Buffer.from(feishuSignature(seconds, secret));
  const given = Buffer.from(sign);
  return expected.length === given.length && timingSafeEqual(expected, given) ? undefined : 'mismatch';
}

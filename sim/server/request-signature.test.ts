// Tests of request signing: Binance's published test vector, constant-time check, signed payloads.
import { describe, expect, it } from 'vitest';
import { hmacSha256Hex } from '../../ts/exchange/request-signer.js';
import { signatureMatches, signedPayload, signedQuery } from './request-signature.js';

const SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const PAYLOAD =
  'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943';
const SIGNATURE = '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9';

describe('request signatures', () => {
  it("reproduces Binance's published test vector", () => {
    expect(hmacSha256Hex(SECRET, PAYLOAD)).toBe(SIGNATURE);
    expect(signatureMatches(SECRET, PAYLOAD, SIGNATURE)).toBe(true);
    expect(signatureMatches(SECRET, PAYLOAD, SIGNATURE.toUpperCase())).toBe(true);
  });

  it('refuses a wrong, short or non-hex signature', () => {
    expect(signatureMatches(SECRET, `${PAYLOAD}0`, SIGNATURE)).toBe(false);
    expect(signatureMatches(SECRET, PAYLOAD, SIGNATURE.slice(0, 63))).toBe(false);
    expect(signatureMatches(SECRET, PAYLOAD, `${SIGNATURE.slice(0, 63)}g`)).toBe(false);
    expect(signatureMatches('other', PAYLOAD, SIGNATURE)).toBe(false);
  });

  it('signs the query concatenated with the body, without the signature pair', () => {
    const query = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
    const body = 'quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943&signature=abc';
    expect(signedPayload(query, body)).toBe(
      `${query}quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943`,
    );
    expect(signedPayload(`${PAYLOAD}&signature=${SIGNATURE}`, '')).toBe(PAYLOAD);
  });

  it('builds a signed query a client would send', () => {
    const signed = signedQuery(SECRET, {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: 1,
      price: 9000,
      timeInForce: 'GTC',
      recvWindow: 5000,
      timestamp: 1591702613943,
    });
    expect(signed).toBe(`${PAYLOAD}&signature=${SIGNATURE}`);
  });
});

// Tests of request signing: Binance's documented vector, parameter encoding, signature placement.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeParams, hmacSha256Hex, RequestSigner } from './request-signer.js';

const SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const PAYLOAD =
  'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943';
const EXPECTED = '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9';

describe('request signing', () => {
  it("matches Binance's documented HMAC-SHA256 test vector", () => {
    expect(hmacSha256Hex(SECRET, PAYLOAD)).toBe(EXPECTED);
    expect(new RequestSigner(SECRET).signature(PAYLOAD)).toBe(EXPECTED);
  });

  it('encodes parameters in insertion order, skipping undefined, percent-encoding values', () => {
    const encoded = encodeParams({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '1',
      price: '9000',
      timeInForce: 'GTC',
      positionSide: undefined,
      recvWindow: 5000,
      timestamp: 1591702613943,
    });
    expect(encoded).toBe(PAYLOAD);
    expect(encodeParams({ id: 'a b&c=d/é' })).toBe('id=a%20b%26c%3Dd%2F%C3%A9');
  });

  it('puts the signature last in the query when there is no body', () => {
    const signed = new RequestSigner(SECRET).sign(PAYLOAD, '');
    expect(signed.body).toBe('');
    expect(signed.query).toBe(`${PAYLOAD}&signature=${EXPECTED}`);
  });

  it('signs query + body and puts the signature last in the body', () => {
    const signer = new RequestSigner(SECRET);
    const query = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
    const body = 'quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943';
    const signed = signer.sign(query, body);
    expect(signed.query).toBe(query);
    // Binance's mixed example: signature over the concatenation without a separator
    expect(signed.body).toBe(`${body}&signature=${hmacSha256Hex(SECRET, query + body)}`);
    expect(signed.body.endsWith(`signature=${signer.signature(query, body)}`)).toBe(true);
  });

  it('never shows the secret', () => {
    const signer = new RequestSigner(SECRET);
    expect(JSON.stringify({ signer })).not.toContain(SECRET);
    expect(inspect(signer)).not.toContain(SECRET);
  });
});

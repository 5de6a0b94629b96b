import { describe, expect, it } from 'vitest';
import {
  gatewayAuthorization,
  parseGatewayAuthorization,
  requestMac,
  verifyRequestMac,
} from './gateway-auth.js';

const CREDENTIALS = { keyId: 'hk0123456789abcdef', secret: 's'.repeat(64), peer: 'trader-1' };
const REQUEST = { method: 'POST', path: '/v1/orders', body: '{"symbol":"BTCUSDT"}' };

describe('gateway request authentication', () => {
  it('signs method, path, time, peer and body; the header reads back', () => {
    const header = gatewayAuthorization(CREDENTIALS, REQUEST, 1_700_000_000_000);
    const fields = parseGatewayAuthorization(header);
    expect(fields).toEqual({
      key: CREDENTIALS.keyId,
      peer: 'trader-1',
      time: 1_700_000_000_000,
      mac: requestMac(CREDENTIALS.secret, REQUEST, 1_700_000_000_000, 'trader-1'),
    });
    if (fields === undefined) throw new Error('unparsed');
    expect(verifyRequestMac(CREDENTIALS.secret, REQUEST, fields)).toBe(true);
  });

  it('refuses a MAC moved to another body, path, peer, time or key', () => {
    const fields = parseGatewayAuthorization(gatewayAuthorization(CREDENTIALS, REQUEST, 1000));
    if (fields === undefined) throw new Error('unparsed');
    expect(verifyRequestMac(CREDENTIALS.secret, { ...REQUEST, body: '{"symbol":"ETHUSDT"}' }, fields)).toBe(
      false,
    );
    expect(verifyRequestMac(CREDENTIALS.secret, { ...REQUEST, path: '/v1/orders/x/y' }, fields)).toBe(false);
    expect(verifyRequestMac(CREDENTIALS.secret, { ...REQUEST, method: 'DELETE' }, fields)).toBe(false);
    expect(verifyRequestMac(CREDENTIALS.secret, REQUEST, { ...fields, peer: 'trader-2' })).toBe(false);
    expect(verifyRequestMac(CREDENTIALS.secret, REQUEST, { ...fields, time: 1001 })).toBe(false);
    expect(verifyRequestMac('t'.repeat(64), REQUEST, fields)).toBe(false);
  });

  it('reads nothing from a header that is not the scheme', () => {
    for (const header of [
      undefined,
      '',
      'Bearer abc',
      `Tributary key=k, time=1, mac=${'0'.repeat(64)}`,
      `Tributary key=k, peer=p q, time=1, mac=${'0'.repeat(64)}`,
      `Tributary key=k, peer=p, time=x, mac=${'0'.repeat(64)}`,
      `Tributary key=k, peer=p, time=1, mac=${'0'.repeat(63)}`,
    ])
      expect(parseGatewayAuthorization(header)).toBeUndefined();
  });
});

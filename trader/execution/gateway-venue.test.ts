// How the gateway's definitive answers reach the executor: what was not placed for this trader is NotSentError.
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import type { GatewayClient } from '../../ts/gateway/gateway-client.js';
import { GatewayRequestError } from '../../ts/gateway/gateway-error.js';
import type { GatewayErrorCode } from '../../ts/gateway/gateway-protocol.js';
import { silentLogger } from '../../ts/log/logger.js';
import { GatewayVenue } from './gateway-venue.js';
import { NotSentError, type Venue, type VenueOrder } from './venue.js';

const ORDER: VenueOrder = {
  symbol: 'BTCUSDT',
  side: 'SELL',
  type: 'MARKET',
  quantity: Decimal.parse('0.010'),
  reduceOnly: false,
  clientOrderId: 't_decision',
};

function venueRefusedWith(code: GatewayErrorCode): GatewayVenue {
  const client = {
    place: async () => {
      throw new GatewayRequestError(code, 'refused by the test gateway');
    },
  } as unknown as GatewayClient;
  return new GatewayVenue({ name: 'exchange' } as Venue, client, silentLogger('gateway-venue'));
}

describe('GatewayVenue answers', () => {
  it('a signal claimed for the other side is not sent for this trader, like an expired claim', async () => {
    for (const code of ['conflict', 'expired'] as const)
      await expect(venueRefusedWith(code).place(ORDER)).rejects.toBeInstanceOf(NotSentError);
    await expect(venueRefusedWith('bad-request').place(ORDER)).rejects.toBeInstanceOf(GatewayRequestError);
  });
});

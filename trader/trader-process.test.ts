import { describe, expect, it, vi } from 'vitest';
import type { LoadedConfig } from '../ts/config/load-config.js';
import type { ServerMessage } from '../ts/hub/control-messages.js';
import { silentLogger } from '../ts/log/logger.js';
import type { UserEventObject } from '../ts/native/parse.js';
import { ExchangeVenue } from './execution/exchange-venue.js';
import type { OrderSender } from './execution/order-sender.js';
import { TraderProcess } from './trader-process.js';

/** The exchange's documented ORDER_TRADE_UPDATE (a trailing stop placed). */
const ORDER_EVENT =
  '{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"TRAILING_STOP_MARKET","f":"GTC","q":"0.001","p":"0","ap":"0","sp":"7103.04","x":"NEW","X":"NEW","i":8886774,"l":"0","z":"0","L":"0","N":"USDT","n":"0","T":1568879465650,"t":0,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"TRAILING_STOP_MARKET","ps":"LONG","cp":false,"AP":"7476.89","cr":"5.0","pP":false,"si":0,"ss":0,"rp":"0","V":"EXPIRE_TAKER","pm":"OPPONENT","gtd":0}}';

/** A trader whose hub messages the test delivers itself (nothing is connected). */
async function relayRig() {
  const loaded = {
    config: { hub: { url: 'ws://127.0.0.1:9' }, trader: { intervals: ['1m'] } },
  } as unknown as LoadedConfig;
  const trader = new TraderProcess(loaded, 0, silentLogger('trader'), { id: 'test', secret: 'x'.repeat(32) });
  let relay: ((message: ServerMessage) => void) | undefined;
  vi.spyOn(trader.client, 'onMessage').mockImplementation((listener) => {
    relay = listener;
    return () => {};
  });
  vi.spyOn(trader.feed, 'start').mockResolvedValue();
  await trader.start();
  // As the hub client delivers a message: a listener's throw is logged there, and the message ends.
  const deliver = (events: string[]): void => {
    try {
      relay?.({ op: 'events', seq: 1, events } as ServerMessage);
    } catch {}
  };
  return { trader, deliver };
}

describe('TraderProcess relaying user events', () => {
  it('a malformed event is refused and counted; the events after it in the batch still arrive', async () => {
    const { trader, deliver } = await relayRig();
    // Two subscribers, as the engine and the risk side subscribe through the venue.
    const venue = new ExchangeVenue('test', { api: {} } as unknown as OrderSender, trader);
    const engine: UserEventObject[] = [];
    const risk: UserEventObject[] = [];
    venue.onUserEvent((e) => risk.push(e));
    venue.onUserEvent((e) => engine.push(e));
    deliver(['{"e":"ORDER_TRADE_UPDATE","E":1,', ORDER_EVENT]);
    expect(risk.map((e) => e.orderUpdate?.clientOrderId)).toEqual(['TEST']);
    expect(engine.map((e) => e.orderUpdate?.clientOrderId)).toEqual(['TEST']);
    expect(trader.status().refusedEvents).toBe(1);
    expect(trader.recentOrderEvents).toHaveLength(2);
    await trader.stop();
  });
});

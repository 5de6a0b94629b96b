// `tributary gateway`: the order gateway redundant traders send their orders through, until SIGINT/SIGTERM.
import { alerterFromConfig } from '../../ts/alerts/create-alerter.js';
import { loadConfig } from '../../ts/config/load-config.js';
import { startHubPresence } from '../../ts/hub/hub-presence.js';
import { KeyFileError, watchKeyFile } from '../../ts/hub/key-file.js';
import { Logger } from '../../ts/log/logger.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { startGatewayService } from '../gateway/gateway-service.js';
import { keysFileOf } from './hub.js';
import { instanceArg, parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary gateway [--config <file>] --keys <file> [options]

Runs the order gateway (DESIGN.md 6, seed 000's take_open): traders running the same strategy
send it their orders; in mode "first" the first to send a signal's order has it placed, whole,
and every other trader gets that same order back; in mode "split" each of gateway.members places
its own 1/N share, snapped to the symbol's lot step. Claims are written to an fsynced log
(gateway.claimLog) before an order is sent, so a restarted gateway neither loses nor doubles one.
Traders authenticate with their own hub key (the hub's key file, watched: keys issued or revoked
take effect without a restart). Places orders with BINANCE_API_KEY and BINANCE_API_SECRET.
With gateway.tls it speaks HTTPS with the fleet's certificates (hub.tls). With a viewer key in
TRIBUTARY_HUB_KEY (for the name gateway-<n>) it also connects to the hub, once it listens, so the
hub's status shows it and its counters.

Options:
  -c, --config <file>   configuration file (TRIBUTARY__* environment variables override it)
      --keys <file>     the hub's key file (default: TRIBUTARY_HUB_KEYS); mode 600
      --host <addr>     listen address (default gateway.host, 127.0.0.1)
      --port <n>        listen port (default gateway.port, 7710; 0 picks a free one)
      --claim-log <f>   the claim log (default gateway.claimLog)
      --instance <n>    instance number (default 0): the hub peer name is gateway-<n>
`;

/** Runs `tributary gateway`; resolves with the exit code once stopped by a signal. */
export async function runGateway(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      keys: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'claim-log': { type: 'string' },
      instance: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const instance = instanceArg(values.instance);
  const port = values.port === undefined ? undefined : Number(values.port);
  // Digits only: `Number` reads "" (an unset `"$PORT"`) as 0, a random port no trader knows.
  if (port !== undefined && (!/^\d+$/.test(values.port ?? '') || port > 65_535))
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  const loaded = loadConfig(values.config);
  const keysFile = keysFileOf(values.keys);
  const logger = new Logger('gateway');
  let keys: Awaited<ReturnType<typeof watchKeyFile>>;
  try {
    keys = await watchKeyFile(keysFile, logger.child('keys'));
  } catch (error) {
    if (error instanceof KeyFileError) throw new UsageError(error.message);
    throw error;
  }
  const onHangup = (): void => void keys.reload();
  process.on('SIGHUP', onHangup);
  const alerts = alerterFromConfig(loaded, 'gateway', logger);
  let gateway: Awaited<ReturnType<typeof startGatewayService>>;
  try {
    gateway = await startGatewayService(loaded, keys.ring, logger, {
      alerts,
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(port === undefined ? {} : { port }),
      ...(values['claim-log'] === undefined ? {} : { claimLog: values['claim-log'] }),
    });
  } catch (error) {
    process.off('SIGHUP', onHangup);
    keys.close();
    await alerts.close();
    throw error;
  }
  const running = gateway;
  const presence = startHubPresence(loaded, {
    peer: `gateway-${instance}`,
    kind: 'gateway',
    logger: logger.child('hub'),
    // Its alerts reach the records store through the hub too.
    alerts,
    report: () => ({ instance, url: running.url, ...running.status() }),
  });
  return runUntilSignal(logger, async () => {
    process.off('SIGHUP', onHangup);
    await presence?.close();
    keys.close();
    await gateway.stop();
    await alerts.close();
  });
}

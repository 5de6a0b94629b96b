// `tributary up` (and `npm start`): the whole system on one machine until Ctrl-C.
import { Logger } from '../../ts/log/logger.js';
import { runUntilSignal } from '../../ts/process/run-until-signal.js';
import { OneMachineSystem } from '../one-machine/one-machine.js';
import { parseCommandArgs } from './usage-error.js';

const HELP = `Usage: tributary up [--config <file>]

Starts the whole system on this machine: the exchange simulator (unless exchange.kind names a real
exchange or exchange.restUrl points at one), the hub, the order gateway when gateway.enabled, one
process per configured collector, the traders, the recorder, the publisher (publish section) and the
dashboard server (dashboard section), whose URL it prints. Output of every process is prefixed with
its name. A process that dies is restarted; one
that dies more than supervisor.maxRestarts times within supervisor.restartWindowMs stops everything
and ends this command with exit code 1. Ctrl-C stops everything cleanly; the processes also stop
by themselves if this command is killed.

Options:
  -c, --config <file>   configuration file (see config/tributary.example.json); TRIBUTARY__*
                        environment variables override it; keys come from BINANCE_API_KEY
                        and BINANCE_API_SECRET (or TRIBUTARY_SECRETS_FILE)

Every process gets its own hub key, made for this run in a private temporary directory and removed
on stop; an admin key for you (full status, subscriptions) is written there as operator.env, and
its path is printed.
`;

/** Runs `tributary up`; returns the exit code. */
export async function runUp(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const logger = new Logger('up');
  const system = new OneMachineSystem({ configFile: values.config, logger });
  let info: Awaited<ReturnType<OneMachineSystem['start']>>;
  try {
    info = await system.start();
  } catch (error) {
    await system.stop();
    throw error;
  }
  process.stdout.write(
    [
      '',
      'Tributary is running on this machine.',
      `  exchange: ${info.exchange}`,
      `  hub:      ${info.hubUrl}`,
      `  status:   ${info.statusUrl}   (JSON: peers, freshness, rates, latency)`,
      ...(info.gatewayUrl === undefined
        ? []
        : [`  gateway:  ${info.gatewayUrl}   (orders of testnet/live traders)`]),
      `  full status: ${info.statusUrl}/full, signed with the admin key in ${info.operatorKeyFile}`,
      ...(info.dashboardUrl === undefined
        ? []
        : [
            `  dashboard: ${info.dashboardUrl}/   (the public page as published)`,
            `  owner view: ${info.dashboardUrl}/owner/   (password: TRIBUTARY_OWNER_TOKEN${info.ownerTokenFile === undefined ? ' from your secrets' : ` in ${info.ownerTokenFile}`})`,
          ]),
      `  log:      ${info.logFile}`,
      `  processes: ${info.children.join(', ')}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const outcome = await Promise.race([
    runUntilSignal(logger, () => system.stop()).then((code) => ({ code })),
    system.failure.then((failure) => ({ failure })),
  ]);
  if ('code' in outcome) return outcome.code;
  const { failure } = outcome;
  logger.error('a process keeps dying; stopping everything', {
    child: failure.name,
    exit: failure.lastExit,
    restarts: failure.restarts,
    windowMs: failure.windowMs,
  });
  await system.stop();
  throw new Error(
    `${failure.name} died again after ${failure.restarts} restarts within ${failure.windowMs / 1000} s ` +
      `(supervisor.maxRestarts), last exit ${failure.lastExit}; stopped everything`,
  );
}

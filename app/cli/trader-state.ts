// `tributary trader state [ACTIVE|REDUCING|HALTED]`: shows a trader's trading state, or switches it through the command file the trader watches.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type PersistedRiskState,
  readRiskState,
  TRADING_STATES,
  type TradingState,
  writeOwnerCommand,
} from '../../trader/risk/risk-state-store.js';
import { instanceArg, parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary trader state [ACTIVE|REDUCING|HALTED] [--reason <text>] [--instance <n>] [--state-dir <dir>] [--wait <s>]

Without a state: prints the trader's trading state (from <state-dir>/risk-state.json).
With one: writes <state-dir>/owner-command.json, which the trader applies within half a second, and
waits until it has (--wait seconds, default 5). A trader that is not running applies the command
when it starts; the command is kept until a newer one replaces it.

  ACTIVE    trade normally
  REDUCING  send only orders that shrink exposure (closes, stops)
  HALTED    send nothing at all (stops already on the exchange stay)

Options:
      --reason <text>     why (kept with the state and shown in the hub's /status)
      --instance <n>      the trader's instance number (default 0)
      --state-dir <dir>   the trader's state folder (default .tributary/trader-<n>)
      --wait <s>          seconds to wait for the trader to apply it (default 5, 0 = do not wait)
`;

function describe(state: PersistedRiskState): string {
  const t = state.trading;
  const lines = [
    `state: ${t.state} since ${new Date(t.since).toISOString()} (${t.source}): ${t.reason}`,
    `close-all in progress: ${state.closeAll === null ? 'no' : `since ${new Date(state.closeAll.since).toISOString()}: ${state.closeAll.reason}`}`,
    `force-closing: ${Object.keys(state.forceClosing).join(', ') || 'none'}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs `tributary trader state ...`; returns the exit code. */
export async function runTraderState(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      reason: { type: 'string' },
      instance: { type: 'string' },
      'state-dir': { type: 'string' },
      wait: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const instance = instanceArg(values.instance);
  const wait = Number(values.wait ?? '5');
  if (!Number.isFinite(wait) || wait < 0) throw new UsageError(`--wait must be seconds, got ${values.wait}`);
  const dir = values['state-dir'] ?? join('.tributary', `trader-${instance}`);
  if (positionals.length > 1) throw new UsageError(`one state at most, got ${positionals.join(' ')}`);
  const wanted = positionals[0]?.toUpperCase();
  if (wanted === undefined) {
    const state = readRiskState(dir);
    if (state === undefined) {
      process.stdout.write(`no risk state in ${dir} (the trader has not run there yet)\n`);
      return 1;
    }
    process.stdout.write(describe(state));
    return 0;
  }
  if (!(TRADING_STATES as readonly string[]).includes(wanted))
    throw new UsageError(`state must be one of ${TRADING_STATES.join(', ')}, got ${positionals[0]}`);
  const id = randomUUID();
  writeOwnerCommand(dir, {
    id,
    state: wanted as TradingState,
    reason: values.reason ?? `set with tributary trader state by ${process.env.USER ?? 'the owner'}`,
    at: Date.now(),
  });
  const deadline = Date.now() + wait * 1000;
  while (Date.now() < deadline) {
    const state = readRiskState(dir);
    if (state?.lastOwnerCommand === id) {
      process.stdout.write(describe(state));
      return 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.stdout.write(
    wait === 0
      ? `command written to ${dir}; the trader applies it within half a second of running\n`
      : `command written to ${dir}, not applied within ${wait} s (is the trader running?); it applies it when it starts\n`,
  );
  return wait === 0 ? 0 : 3;
}

// What a rotating A/B of stage 4 runs (parsed from its command line) and how its rounds are read: pure, so it is tested without processes.
import { resolve } from 'node:path';
import type { Side } from './coordinator.js';
import { median } from './phase-summary.js';
import type { E2eTransport } from './protocol.js';

/** One pipeline of the A/B: its label, the checkout whose `dist/` it runs, and the server it starts. */
export interface AbVariant {
  label: string;
  root: string;
  side: Side;
}

/** The whole A/B: every variant runs every rate once a round, in an order that rotates. */
export interface AbPlan {
  transport: E2eTransport;
  rounds: number;
  rates: number[];
  variants: AbVariant[];
}

/** A command line the A/B cannot run, naming the argument. */
export class AbPlanError extends Error {
  override readonly name = 'AbPlanError';
}

export const AB_USAGE = `usage: node dist/benchmarks/e2e-ab.js [--transport uws|ws] [--rounds N] [--rates R1,R2,…] label=side[@checkout] …
  side: hub or relay; checkout: a built checkout (its dist/ runs), this one when left out.
  The first variant is the reference the ratios are taken against, e.g.
  node dist/benchmarks/e2e-ab.js --rates 1000,20000 relay=relay hub=hub before=hub@../before`;

const MAX_ROUNDS = 100;
const MAX_RATE = 1_000_000;

function positiveInteger(text: string | undefined, what: string, max: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < 1 || value > max)
    throw new AbPlanError(`${what} must be an integer from 1 to ${max}, got ${text ?? 'nothing'}`);
  return value;
}

function variant(text: string, cwd: string): AbVariant {
  const match = /^([A-Za-z0-9_.-]+)=(hub|relay)(?:@(.+))?$/.exec(text);
  if (match === null)
    throw new AbPlanError(`variant ${JSON.stringify(text)} is not label=hub|relay[@checkout]`);
  const [, label = '', side, root] = match;
  return { label, side: side === 'relay' ? 'relay' : 'hub', root: resolve(cwd, root ?? '.') };
}

function parse(argv: readonly string[], cwd: string): AbPlan {
  const plan: AbPlan = { transport: 'uws', rounds: 6, rates: [1000, 20000], variants: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--transport') {
      const transport = argv[++i];
      if (transport !== 'uws' && transport !== 'ws')
        throw new AbPlanError(`--transport must be uws or ws, got ${transport ?? 'nothing'}`);
      plan.transport = transport;
    } else if (arg === '--rounds') {
      plan.rounds = positiveInteger(argv[++i], '--rounds', MAX_ROUNDS);
    } else if (arg === '--rates') {
      const list = argv[++i];
      plan.rates = (list ?? '').split(',').map((rate) => positiveInteger(rate, '--rates', MAX_RATE));
    } else if (arg.startsWith('--')) {
      throw new AbPlanError(`unknown option ${arg}`);
    } else {
      plan.variants.push(variant(arg, cwd));
    }
  }
  if (plan.variants.length < 2) throw new AbPlanError('an A/B needs at least two variants');
  const labels = new Set(plan.variants.map((v) => v.label));
  if (labels.size !== plan.variants.length) throw new AbPlanError('variant labels must differ');
  return plan;
}

/** The plan of a command line, or why it cannot run. */
export function parseAbArgs(argv: readonly string[], cwd = process.cwd()): AbPlan | AbPlanError {
  try {
    return parse(argv, cwd);
  } catch (error) {
    if (error instanceof AbPlanError) return error;
    throw error;
  }
}

/** The order variants run in round `round`: rotated by one each round, so none always goes first. */
export function roundOrder(round: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + round) % count);
}

/** One rate's result line: each variant's median p50 and p99, its ratio to the first's, and the per-round ratios. */
export function summariseRate(
  rate: number,
  labels: readonly string[],
  p50s: number[][],
  p99s: number[][],
): string {
  const reference = p50s[0] ?? [];
  const base = median(reference);
  const parts = labels.map((label, v) => {
    const mine = p50s[v] ?? [];
    const p50 = median(mine);
    const rounds = mine.map((us, r) => (us / (reference[r] ?? Number.NaN)).toFixed(2)).join(' ');
    return `${label} p50 ${p50.toFixed(0)} µs (${(p50 / base).toFixed(2)}×) p99 ${median(p99s[v] ?? []).toFixed(0)} µs [${rounds}]`;
  });
  return `${rate} msg/s: ${parts.join(' | ')}`;
}

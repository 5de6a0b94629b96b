// Rotating A/B of stage 4: several pipelines (the relay, this hub, another checkout's hub) up at once, their phases interleaved, medians and per-round ratios printed.
//
//   node dist/benchmarks/e2e-ab.js --rates 1000,20000 relay=relay hub=hub
//   node dist/benchmarks/e2e-ab.js --transport ws --rounds 8 relay=relay after=hub before=hub@../before
//
// `npm run bench` measures each side once, minutes apart; on these noisy machines a change of
// 10 % needs the sides measured in the same minutes. Each round runs every rate on every variant
// (1 s warm-up, 4 s measured, 2 s drain), starting one variant later each round.

import { pathToFileURL } from 'node:url';
import { AB_USAGE, AbPlanError, parseAbArgs, roundOrder, summariseRate } from './e2e/ab-plan.js';
import type { Pipeline } from './e2e/coordinator.js';

const TIMING = { warmupMs: 1000, measureMs: 4000, drainMs: 2000 };

async function main(): Promise<number> {
  const plan = parseAbArgs(process.argv.slice(2));
  if (plan instanceof AbPlanError) {
    console.error(`e2e-ab: ${plan.message}\n${AB_USAGE}`);
    return 2;
  }
  const pipelines: Pipeline[] = [];
  try {
    for (const v of plan.variants) {
      const url = pathToFileURL(`${v.root}/dist/benchmarks/e2e/coordinator.js`).href;
      const coordinator = (await import(url)) as typeof import('./e2e/coordinator.js');
      pipelines.push(await coordinator.Pipeline.start(v.side, plan.transport));
    }
    const labels = plan.variants.map((v) => v.label);
    const p50s = plan.rates.map(() => labels.map((): number[] => []));
    const p99s = plan.rates.map(() => labels.map((): number[] => []));
    for (let round = 0; round < plan.rounds; round++) {
      for (const [r, rate] of plan.rates.entries()) {
        const line: string[] = [];
        for (const v of roundOrder(round, pipelines.length)) {
          const run = await pipelines[v]?.runPhase(rate, TIMING);
          if (run === undefined) continue;
          p50s[r]?.[v]?.push(run.summary.p50Us);
          p99s[r]?.[v]?.push(run.summary.p99Us);
          line.push(
            `${labels[v]} ${run.summary.p50Us.toFixed(0)}/${run.summary.p99Us.toFixed(0)}${run.summary.sustained ? '' : ' (not sustained)'}`,
          );
        }
        console.log(`round ${round + 1}, ${rate} msg/s, p50/p99 µs: ${line.join('  ')}`);
      }
    }
    console.log(
      `\n${plan.transport}, ${plan.rounds} rounds, medians (ratio to ${labels[0]}), [per-round p50 ratios]:`,
    );
    for (const [r, rate] of plan.rates.entries())
      console.log(summariseRate(rate, labels, p50s[r] ?? [], p99s[r] ?? []));
    return 0;
  } finally {
    await Promise.all(pipelines.map((p) => p.stop()));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('e2e-ab failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

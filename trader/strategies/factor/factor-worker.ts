// A piscina worker: runs one calculator module on one view (modules are loaded once per thread).
import type { FactorCalculator, FactorView } from './calculator-api.js';

const loaded = new Map<string, Promise<FactorCalculator>>();

/** The task: the calculator module's path and the view. */
export interface FactorTask {
  readonly module: string;
  readonly view: FactorView;
}

export default async function run(
  task: FactorTask,
): Promise<{ name: string; weights: Record<string, number> }> {
  let calculator = loaded.get(task.module);
  if (calculator === undefined) {
    calculator = import(task.module).then((m: { calculator?: FactorCalculator }) => {
      if (m.calculator === undefined || typeof m.calculator.run !== 'function')
        throw new Error(`${task.module} does not export a calculator`);
      return m.calculator;
    });
    loaded.set(task.module, calculator);
  }
  const c = await calculator;
  return { name: c.name, weights: c.run(task.view) };
}

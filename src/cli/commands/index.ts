import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerEval } from './eval.js';

/** Each subcommand lives in its own module and registers itself here. */
export function registerCommands(program: Command): void {
  // eval, bench, enroll, list, remove, test, status, doctor are added by their modules.
  registerEval(program);
  registerBench(program);
}

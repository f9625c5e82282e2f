import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerDoctor } from './doctor.js';
import { registerEnroll } from './enroll.js';
import { registerEval } from './eval.js';
import { registerEvalPad } from './eval-pad.js';
import { registerList } from './list.js';
import { registerRemove } from './remove.js';
import { registerStatus } from './status.js';
import { registerTest } from './test.js';
import { registerUnlock } from './unlock.js';

/** Each subcommand lives in its own module and registers itself here. */
export function registerCommands(program: Command): void {
  // eval, bench, enroll, list, remove, unlock, test, status, doctor are added by their modules.
  registerEval(program);
  registerEvalPad(program);
  registerBench(program);
  registerEnroll(program);
  registerList(program);
  registerRemove(program);
  registerUnlock(program);
  registerTest(program);
  registerStatus(program);
  registerDoctor(program);
}

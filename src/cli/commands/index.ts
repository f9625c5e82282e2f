import type { Command } from 'commander';

/** Each subcommand lives in its own module and registers itself here. */
export function registerCommands(_program: Command): void {
  // eval, bench, enroll, list, remove, test, status, doctor are added by their modules.
}

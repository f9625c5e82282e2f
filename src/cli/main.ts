#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command();
program
  .name('facegate')
  .description('Face authentication for Linux: enrol faces, test them, check accuracy and speed')
  .version('0.1.0')
  .showHelpAfterError()
  // Usage errors (bad option value, missing option) exit 2 as README promises for every command, not commander's
  // 1; subcommands inherit this, so eval and bench behave like the others.
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : err.code.startsWith('commander.') ? 2 : err.exitCode);
  });

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`facegate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

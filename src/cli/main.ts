#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command();
program
  .name('facegate')
  .description('Face authentication for Linux: enrol faces, test them, check accuracy and speed')
  .version('0.1.0')
  .showHelpAfterError();

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`facegate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerCommands } from '../src/cli/commands/index.js';
import { PACKAGE_ROOT } from '../src/paths.js';

test('docs/cli.md names every command and every option of the CLI', () => {
  const doc = fs.readFileSync(path.join(PACKAGE_ROOT, 'docs', 'cli.md'), 'utf8');
  const program = new Command();
  registerCommands(program);
  assert.ok(program.commands.length >= 9);
  const missing: string[] = [];
  for (const cmd of program.commands) {
    const heading = new RegExp(`^### \`facegate ${cmd.name()}\\b`, 'm');
    if (!heading.test(doc)) missing.push(`command ${cmd.name()}`);
    for (const opt of cmd.options) {
      if (!doc.includes(`\`${opt.long}`)) missing.push(`${cmd.name()} ${opt.long}`);
    }
  }
  assert.deepEqual(missing, []);
});

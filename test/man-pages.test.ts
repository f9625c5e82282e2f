// The man pages render without a warning, and name everything the code accepts: every PAM option that
// pam/pam_facegate.c parses, every facegate command and option registered in src/cli, every facegated option,
// every config key of the schema. The lists are read from the code, so a new option cannot ship undocumented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerCommands } from '../src/cli/commands/index.js';
import { configKeys } from '../src/config/config.js';
import { PACKAGE_ROOT } from '../src/paths.js';

const MAN_DIR = path.join(PACKAGE_ROOT, 'man');
const PAGES = ['pam_facegate.8', 'facegate.1', 'facegated.8', 'facegate.toml.5'];
const noMan = spawnSync('man', ['--version']).status !== 0 && 'man (man-db) is not installed (scripts/setup-dev.sh installs it)';

/** The page as a reader sees it, 80 columns, with groff's typographic hyphens and minus signs made ASCII. */
function render(page: string): { text: string; warnings: string } {
  const r = spawnSync('man', ['--warnings', '-l', path.join(MAN_DIR, page)], {
    encoding: 'utf8',
    env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat', LC_ALL: 'C.UTF-8', MAN_KEEP_FORMATTING: '' },
  });
  assert.equal(r.status, 0, `man -l ${page}: ${r.stderr}`);
  // Bold/underline overstrikes (if any pager formatting got through) and Unicode dashes become plain text.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a backspace overstrike is what it removes
  const text = r.stdout.replace(/.\x08/g, '').replace(/[\u2010\u2011\u2012\u2013\u2212]/g, '-');
  return { text, warnings: r.stderr };
}

function mentions(text: string, word: string): boolean {
  const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_-])${esc}($|[^A-Za-z0-9_-])`, 'm').test(text);
}

/** Options parse_options() accepts: "flag" for strcmp(a, "flag"), "key=" for strncmp(a, "key=", n). */
export function pamOptions(source: string): string[] {
  const start = source.indexOf('parse_options(');
  assert.ok(start >= 0, 'parse_options() not found in pam_facegate.c');
  const body = source.slice(start, source.indexOf('\n}\n', start));
  const opts = [...body.matchAll(/\bstrn?cmp\s*\(\s*a\s*,\s*"([^"]+)"/g)].map((m) => m[1]!);
  return [...new Set(opts)];
}

test('every man page renders with man -l and no warning', { skip: noMan }, () => {
  for (const page of PAGES) {
    const { text, warnings } = render(page);
    assert.equal(warnings.trim(), '', `${page}: ${warnings}`);
    assert.match(text, /^NAME$/m, page);
    assert.match(text, /^SEE ALSO$/m, page);
  }
});

test('pam_facegate(8) names every option the module parses', { skip: noMan }, () => {
  const opts = pamOptions(fs.readFileSync(path.join(PACKAGE_ROOT, 'pam', 'pam_facegate.c'), 'utf8'));
  assert.ok(opts.includes('debug') && opts.includes('timeout='), `parser not understood: ${opts.join(' ')}`);
  const { text } = render('pam_facegate.8');
  const missing = opts.filter((o) => !(o.endsWith('=') ? text.includes(o) : mentions(text, o)));
  assert.deepEqual(missing, [], 'options missing from man/pam_facegate.8');
});

test('facegate(1) names every command and every option of each', { skip: noMan }, () => {
  const program = new Command().name('facegate');
  registerCommands(program);
  assert.ok(program.commands.length >= 5);
  const { text } = render('facegate.1');
  const missing: string[] = [];
  // A command is documented when it has its own entry (a tagged paragraph) under COMMANDS, not merely a mention.
  const commands = text.slice(text.indexOf('\nCOMMANDS\n'), text.indexOf('\nCOMMON OPTIONS\n'));
  for (const cmd of program.commands) {
    if (!new RegExp(`^ {7}${cmd.name()}( |$)`, 'm').test(commands)) missing.push(cmd.name());
    for (const o of cmd.options) {
      const flag = o.long ?? o.short ?? '';
      if (!mentions(text, flag)) missing.push(`${cmd.name()} ${flag}`);
    }
  }
  assert.deepEqual(missing, [], 'missing from man/facegate.1');
});

test('facegated(8) names every option of the daemon', { skip: noMan }, () => {
  const source = fs.readFileSync(path.join(PACKAGE_ROOT, 'src', 'daemon', 'main.ts'), 'utf8');
  const flags = [...source.matchAll(/\.option\(\s*'(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!);
  assert.ok(flags.includes('--config'), `option list not understood: ${flags.join(' ')}`);
  const { text } = render('facegated.8');
  assert.deepEqual(
    flags.filter((f) => !mentions(text, f)),
    [],
    'missing from man/facegated.8',
  );
});

test('facegate.toml(5) names every config key as section.key', { skip: noMan }, () => {
  const keys = configKeys();
  assert.ok(keys.includes('verify.target_far') && keys.includes('services.default'));
  const { text } = render('facegate.toml.5');
  assert.deepEqual(
    keys.filter((k) => !mentions(text, k)),
    [],
    'missing from man/facegate.toml.5',
  );
});

test('the option parser reader finds what the C code accepts', () => {
  const src = `static bool parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
	for (;;) { if (strcmp(a, "debug") == 0) {} else if (strncmp(a, "socket=", 7) == 0) {} else if (strcmp(a, "greeter") == 0) {} }
}
static int other(void) { return strcmp(a, "not-an-option"); }
`;
  assert.deepEqual(pamOptions(src), ['debug', 'socket=', 'greeter']);
});

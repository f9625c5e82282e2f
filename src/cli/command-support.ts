import type { Command } from 'commander';
import { ConfigError, type Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import { checkUserName } from '../store/username.js';

/** Exit codes shared by enroll, list, remove, test, status and doctor (docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** The answer is no: face denied, a doctor check failed, nothing to remove. */
  FAIL: 1,
  /** Bad usage or bad configuration. */
  USAGE: 2,
  /** Could not do it: camera, models, database or daemon unavailable, no usable face. */
  UNAVAILABLE: 3,
} as const;

export interface CommonOptions {
  config?: string;
  db?: string;
  socket?: string;
  json?: boolean;
}

/** --config/--db/--socket/--json, accepted after the subcommand name (`facegate list --db D`). */
export function withCommonOptions(cmd: Command, opts: { socket?: boolean } = {}): Command {
  cmd.option('--config <file>', 'config file (default /etc/facegate/config.toml)');
  cmd.option('--db <file>', 'template database (overrides daemon.db)');
  if (opts.socket !== false) cmd.option('--socket <path>', 'daemon socket (overrides daemon.socket)');
  cmd.option('--json', 'machine-readable output on stdout');
  // Usage errors (unknown option, missing argument) exit 2 like other Unix tools, not commander's 1.
  cmd.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : err.code.startsWith('commander.') ? EXIT.USAGE : err.exitCode);
  });
  return cmd;
}

/** An error the command reports and turns into an exit code (no stack trace for expected failures). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.UNAVAILABLE,
  ) {
    super(message);
  }
}

/** Checks arguments with the store's own validators; whatever they reject is a usage error (exit 2). */
export function checkArgs(user: string, more: () => void = () => {}): void {
  try {
    checkUserName(user);
    more();
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.USAGE);
  }
}

export function configFrom(opts: CommonOptions & { camera?: string }): Config {
  try {
    return loadConfig({
      ...(opts.config !== undefined ? { config: opts.config } : {}),
      ...(opts.db !== undefined ? { db: opts.db } : {}),
      ...(opts.socket !== undefined ? { socket: opts.socket } : {}),
      ...(opts.camera !== undefined ? { camera: opts.camera } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`config: ${err.message}`, EXIT.USAGE);
    throw err;
  }
}

/**
 * Runs a command body: prints its JSON (with --json) or lets it print text, and maps errors to exit codes. With
 * --json even an error is a JSON object on stdout, so scripts never parse prose.
 */
export async function run(opts: CommonOptions, body: () => Promise<{ json: unknown; code?: number }>): Promise<void> {
  try {
    const { json, code } = await body();
    if (opts.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    process.exitCode = code ?? EXIT.OK;
  } catch (err) {
    const code = err instanceof CliError ? err.exitCode : EXIT.UNAVAILABLE;
    const message = err instanceof Error ? err.message : String(err);
    if (opts.json) process.stdout.write(`${JSON.stringify({ error: message, exit_code: code }, null, 2)}\n`);
    else process.stderr.write(`facegate: ${message}\n`);
    process.exitCode = code;
  }
}

/** Only text mode prints prose. */
export function say(opts: CommonOptions, line: string): void {
  if (!opts.json) process.stdout.write(`${line}\n`);
}

import fs from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { ConfigError, DEFAULT_CONFIG_PATH, defaultConfig, validateConfig, type Config } from './config.js';

export interface ConfigOverrides {
  /** Explicit config file; when given it must exist. */
  config?: string;
  socket?: string;
  db?: string;
  camera?: string;
}

/** Parses and validates TOML text; `origin` names the file in error messages. */
export function parseConfig(text: string, origin = 'config'): Config {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const detail = err instanceof TomlError ? `line ${err.line}, column ${err.column}: ${err.message.split('\n')[0]}` : String(err);
    throw new ConfigError(origin, `invalid TOML (${detail})`);
  }
  try {
    return validateConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${origin}: ${err.key}`, err.message.slice(err.key.length + 2));
    throw err;
  }
}

/**
 * Loads the configuration: the explicit file if given (must exist), else /etc/facegate/config.toml if present,
 * else the defaults; then command-line overrides, which are validated like file values.
 */
export function loadConfig(overrides: ConfigOverrides = {}): Config {
  const file = overrides.config ?? (process.env.FACEGATE_CONFIG || undefined) ?? DEFAULT_CONFIG_PATH;
  let cfg: Config;
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const explicit = overrides.config !== undefined || Boolean(process.env.FACEGATE_CONFIG);
    if (code !== 'ENOENT' || explicit) throw new ConfigError(file, `cannot read config file (${code ?? String(err)})`);
  }
  cfg = text === undefined ? defaultConfig() : parseConfig(text, file);
  const cli: Record<string, unknown> = {};
  if (overrides.socket !== undefined || overrides.db !== undefined) {
    cli.daemon = {
      socket: overrides.socket ?? cfg.daemon.socket,
      db: overrides.db ?? cfg.daemon.db,
      threads: cfg.daemon.threads,
    };
  }
  if (overrides.camera !== undefined) cli.camera = { ...cfg.camera, device: overrides.camera };
  if (Object.keys(cli).length > 0) {
    // Re-validate through the same schema so `--db relative.db` gets the same error a file value would.
    const merged = { ...cfgToDoc(cfg), ...absolutise(cli) };
    cfg = validateConfig(merged);
  }
  return cfg;
}

/** Command-line paths are resolved against the working directory, as users expect. */
function absolutise(cli: Record<string, unknown>): Record<string, unknown> {
  const d = cli.daemon as { socket: string; db: string; threads: number } | undefined;
  if (d) cli.daemon = { ...d, socket: resolvePath(d.socket), db: resolvePath(d.db) };
  return cli;
}

function resolvePath(p: string): string {
  return p.startsWith('/') || p === '' ? p : `${process.cwd()}/${p}`;
}

function cfgToDoc(cfg: Config): Record<string, unknown> {
  // Every section, so a table added to Config is never dropped (and reset to defaults) by a command-line override.
  const doc: Record<string, unknown> = {};
  for (const [section, body] of Object.entries(cfg))
    doc[section] = section === 'services' ? { default: cfg.services.default, ...cfg.services.enabled } : { ...(body as object) };
  return doc;
}

/**
 * Structured log lines for journald: `level=info msg=request user=alice service=sudo …` (logfmt). Values are
 * quoted when needed and control characters escaped, so a hostile user name cannot forge a log line. Callers
 * pass only scalars: there is deliberately no way to log a vector or an image.
 */
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

function quote(v: string): string {
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects or escapes
  const escaped = v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return /^[A-Za-z0-9_./:@+-]+$/.test(escaped) ? escaped : `"${escaped}"`;
}

export function formatLine(level: LogLevel, msg: string, fields: LogFields = {}): string {
  const parts = [`level=${level}`, `msg=${quote(msg)}`];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (!/^[a-z][a-z0-9_]*$/.test(k)) continue;
    const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v === null ? 'null' : String(v);
    parts.push(`${k}=${quote(s.length > 256 ? `${s.slice(0, 256)}…` : s)}`);
  }
  return parts.join(' ');
}

/** syslog priorities; journald reads a `<N>` prefix on stdout lines as the line's priority. */
const PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * A logger writing one line per event. Under systemd (JOURNAL_STREAM set) each line gets a `<N>` priority prefix,
 * so `journalctl -p warning -u facegate` works.
 */
export function createLogger(
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  debug = false,
  journal = process.env.JOURNAL_STREAM !== undefined,
): Logger {
  const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (level === 'debug' && !debug) return;
    const line = formatLine(level, msg, fields);
    write(journal ? `<${PRIORITY[level]}>${line}` : line);
  };
  return {
    log,
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    debug: (m, f) => log('debug', m, f),
  };
}

import { parseCameraSpec } from '../camera/camera.js';
import { ATTEMPT_RULE_KINDS, DEFAULT_ATTEMPT_RULE, type AttemptRuleKind } from '../match/attempt-rule.js';

/**
 * The facegate configuration: one TOML file, validated key by key so a typo is reported by name at start-up
 * instead of silently falling back to a default. docs/config.md documents every key; keep the two in step.
 */

export interface DaemonConfig {
  /** Unix socket the daemon listens on (ignored under systemd socket activation). */
  socket: string;
  /** SQLite template database. */
  db: string;
  /** ONNX Runtime intra-op threads per model; 0 lets ONNX Runtime use every core. */
  threads: number;
}

export interface CameraConfig {
  /** Camera spec: `v4l2:/dev/videoN` or `replay:DIR`. */
  device: string;
  /** Frames whose mean grey level is below this are skipped (IR emitters light every other frame). */
  dark_threshold: number;
  /** Seconds the camera stays open after a request, so a quick retry does not pay the open cost again. */
  idle_close: number;
  /** Accept a v4l2loopback device (anyone who can write to it can show it a video). */
  allow_loopback: boolean;
  /** Accept `replay:DIR` cameras (tests and benches; never on a real system). */
  allow_replay: boolean;
}

export interface VerifyConfig {
  /** False-accept rate the match threshold is calibrated for. */
  target_far: number;
  /** How the frame scores of one attempt decide a match (src/match/attempt-rule.ts, docs/accuracy.md). */
  rule: AttemptRuleKind;
  /** Frames the rule needs: m of `best-mean`, k of `k-of`. */
  rule_frames: number;
  /** Longest a verification may take in seconds; the PAM module's own deadline can only shorten it. */
  timeout: number;
  /** Seconds without any face in view after which the answer is `unavailable`/`no-face` at once; 0 = wait the whole timeout. */
  face_wait: number;
  /** Minimum inter-ocular distance in source pixels. */
  min_face_px: number;
  /** Minimum variance of the Laplacian on the aligned chip. */
  min_sharpness: number;
  /** Accepted mean grey level of the aligned chip. */
  min_brightness: number;
  max_brightness: number;
  /** Largest head rotation (degrees) accepted. */
  max_yaw: number;
  max_pitch: number;
  /** Embedder ids to use; empty means every embedder the pipeline loads. */
  embedders: string[];
}

export interface EnrollConfig {
  /** Good frames collected per enrolment. */
  frames: number;
  /** Seconds enrolment waits for those frames before giving up. */
  timeout: number;
}

/** Cues the liveness fusion may use (src/liveness/fusion.ts FUSED_CUES). */
export const LIVENESS_CUES = ['pad', 'stillness', 'coherence', 'parallax', 'edges'] as const;

export interface LivenessConfig {
  /** Allow only faces judged live (a matching face that is not live is denied with `not-live`). */
  enabled: boolean;
  /**
   * Fused cues in use, each with its threshold from calibration/liveness.json. Removing one only weakens the
   * check; a cue the calibration has no threshold for is an error at start.
   */
  cues: string[];
  /** Attention: median eye aspect ratio over the window must be at least this (eyes open). */
  min_ear: number;
  /** On grey (IR) frames, require the emitter to light the face well above the background. */
  ir_gate: boolean;
  /** IR gate: smallest face gain (grey levels, lit minus dark frame) and face-over-background gain ratio. */
  ir_min_face_gain: number;
  ir_min_ratio: number;
}

export interface ServicesConfig {
  /** Whether PAM services not listed in `enabled` may use face authentication. */
  default: boolean;
  /** Per-service switch, e.g. { sudo: true, sshd: false }. */
  enabled: Record<string, boolean>;
}

export interface LocalConfig {
  /**
   * PAM services that run outside any logind session by design (login screens, lock screens started as user
   * units). For these "no session" counts as local whatever the user's other sessions (for other services only
   * when the invoking user is at a seat and logged in nowhere remote); their PAM line must also carry the
   * `greeter` option.
   */
  greeters: string[];
}

export interface LockoutConfig {
  /** Consecutive failed face attempts (deny) after which the user is locked out of face authentication. */
  attempts: number;
  /** Seconds a lockout lasts; a failure older than this no longer counts. */
  seconds: number;
}

export interface Config {
  daemon: DaemonConfig;
  camera: CameraConfig;
  verify: VerifyConfig;
  enroll: EnrollConfig;
  liveness: LivenessConfig;
  services: ServicesConfig;
  local: LocalConfig;
  lockout: LockoutConfig;
}

/** Local interactive services offered face authentication by default; everything else is off (docs/config.md). */
export const DEFAULT_SERVICES: readonly string[] = [
  'sudo',
  'su',
  'login',
  'polkit-1',
  'gdm-password',
  'kde',
  'sddm',
  'lightdm',
  'xscreensaver',
  'swaylock',
  'hyprlock',
  'i3lock',
  'cinnamon-screensaver',
  'mate-screensaver',
];

/**
 * Of those, the ones that authenticate before any user session exists (VT login, display managers) or may run
 * as a user unit outside the session (lock screens). sudo, su and polkit-1 always run inside the caller's session.
 */
export const DEFAULT_GREETERS: readonly string[] = [
  'login',
  'gdm-password',
  'sddm',
  'lightdm',
  'kde',
  'xscreensaver',
  'swaylock',
  'hyprlock',
  'i3lock',
  'cinnamon-screensaver',
  'mate-screensaver',
];

export const DEFAULT_CONFIG_PATH = '/etc/facegate/config.toml';

export function defaultConfig(): Config {
  return {
    daemon: { socket: '/run/facegate/facegate.sock', db: '/var/lib/facegate/facegate.db', threads: 1 },
    camera: { device: 'v4l2:/dev/video0', dark_threshold: 25, idle_close: 2, allow_loopback: false, allow_replay: false },
    verify: {
      target_far: 1e-4,
      rule: DEFAULT_ATTEMPT_RULE.kind,
      rule_frames: DEFAULT_ATTEMPT_RULE.frames,
      timeout: 4,
      face_wait: 1,
      min_face_px: 24,
      min_sharpness: 5,
      min_brightness: 30,
      max_brightness: 235,
      max_yaw: 35,
      max_pitch: 35,
      embedders: [],
    },
    enroll: { frames: 5, timeout: 20 },
    liveness: { enabled: true, cues: [...LIVENESS_CUES], min_ear: 0.18, ir_gate: true, ir_min_face_gain: 20, ir_min_ratio: 2 },
    // Off unless listed: a service nobody thought about (sshd, cron, a web login through PAM) never gets a face.
    services: { default: false, enabled: Object.fromEntries(DEFAULT_SERVICES.map((s) => [s, true])) },
    local: { greeters: [...DEFAULT_GREETERS] },
    lockout: { attempts: 5, seconds: 600 },
  };
}

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Checker = (value: unknown, key: string) => unknown;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function str(opts: { nonEmpty?: boolean; absolute?: boolean } = {}): Checker {
  return (v, key) => {
    if (typeof v !== 'string') throw new ConfigError(key, `must be a string, got ${describe(v)}`);
    if (opts.nonEmpty && v.length === 0) throw new ConfigError(key, 'must not be empty');
    if (v.includes('\0')) throw new ConfigError(key, 'must not contain NUL');
    if (opts.absolute && !v.startsWith('/')) throw new ConfigError(key, `must be an absolute path, got "${v}"`);
    return v;
  };
}

function num(min: number, max: number, opts: { integer?: boolean; minExclusive?: boolean } = {}): Checker {
  return (v, key) => {
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new ConfigError(key, `must be a number, got ${describe(v)}`);
    if (opts.integer && !Number.isInteger(n)) throw new ConfigError(key, `must be an integer, got ${n}`);
    const low = opts.minExclusive ? n <= min : n < min;
    if (low || n > max) {
      throw new ConfigError(key, `must be in ${opts.minExclusive ? '(' : '['}${min}, ${max}], got ${n}`);
    }
    return n;
  };
}

function bool(): Checker {
  return (v, key) => {
    if (typeof v !== 'boolean') throw new ConfigError(key, `must be true or false, got ${describe(v)}`);
    return v;
  };
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function idList(): Checker {
  return (v, key) => {
    if (!Array.isArray(v)) throw new ConfigError(key, `must be an array of strings, got ${describe(v)}`);
    return v.map((item, i) => {
      if (typeof item !== 'string' || !ID_RE.test(item)) {
        throw new ConfigError(`${key}[${i}]`, `must be an embedder id like "faceres", got ${describe(item)}`);
      }
      return item;
    });
  };
}

function cueList(): Checker {
  return (v, key) => {
    if (!Array.isArray(v)) throw new ConfigError(key, `must be an array of strings, got ${describe(v)}`);
    const seen = new Set<string>();
    return v.map((item, i) => {
      if (typeof item !== 'string' || !(LIVENESS_CUES as readonly string[]).includes(item)) {
        throw new ConfigError(`${key}[${i}]`, `must be one of ${LIVENESS_CUES.join(', ')}, got ${describe(item)}`);
      }
      if (seen.has(item)) throw new ConfigError(`${key}[${i}]`, `"${item}" is listed twice`);
      seen.add(item);
      return item;
    });
  };
}

function oneOf(values: readonly string[]): Checker {
  return (v, key) => {
    if (typeof v !== 'string' || !values.includes(v))
      throw new ConfigError(key, `must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${describe(v)}`);
    return v;
  };
}

/** Keys that were removed, with what replaced them, so an old config gets a useful error rather than "unknown". */
const REPLACED: Record<string, string> = {
  'verify.frames_needed': 'replaced by verify.rule and verify.rule_frames (docs/config.md): consecutive matching frames gave an impostor one try per frame',
};

function cameraSpec(): Checker {
  return (v, key) => {
    const s = str({ nonEmpty: true })(v, key) as string;
    // The camera module's own parser, so the config accepts exactly what openCamera accepts (options included).
    try {
      parseCameraSpec(s);
    } catch (err) {
      throw new ConfigError(key, `must be "v4l2:/dev/videoN" or "replay:DIR": ${(err as Error).message}`);
    }
    return s;
  };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'object') return 'a table';
  return `${typeof v} ${String(v)}`;
}

const SERVICE_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

function serviceList(): Checker {
  return (v, key) => {
    if (!Array.isArray(v)) throw new ConfigError(key, `must be an array of PAM service names, got ${describe(v)}`);
    const out = v.map((item, i) => {
      if (typeof item !== 'string' || !SERVICE_RE.test(item)) {
        throw new ConfigError(`${key}[${i}]`, `must be a PAM service name like "gdm-password", got ${describe(item)}`);
      }
      return item;
    });
    return [...new Set(out)];
  };
}

const SCHEMA: Record<Exclude<keyof Config, 'services'>, Record<string, Checker>> = {
  daemon: { socket: str({ nonEmpty: true, absolute: true }), db: str({ nonEmpty: true, absolute: true }), threads: num(0, 64, { integer: true }) },
  camera: { device: cameraSpec(), dark_threshold: num(0, 255), idle_close: num(0, 3600), allow_loopback: bool(), allow_replay: bool() },
  verify: {
    target_far: num(0, 1, { minExclusive: true }),
    rule: oneOf(ATTEMPT_RULE_KINDS),
    rule_frames: num(1, 100, { integer: true }),
    timeout: num(0, 120, { minExclusive: true }),
    face_wait: num(0, 120),
    min_face_px: num(0, 10000),
    min_sharpness: num(0, 1e9),
    min_brightness: num(0, 255),
    max_brightness: num(0, 255),
    max_yaw: num(0, 90),
    max_pitch: num(0, 90),
    embedders: idList(),
  },
  enroll: { frames: num(1, 100, { integer: true }), timeout: num(0, 600, { minExclusive: true }) },
  liveness: {
    enabled: bool(),
    cues: cueList(),
    min_ear: num(0, 1),
    ir_gate: bool(),
    ir_min_face_gain: num(0, 255),
    ir_min_ratio: num(0, 100),
  },
  local: { greeters: serviceList() },
  lockout: { attempts: num(1, 100, { integer: true }), seconds: num(1, 7 * 86400, { integer: true }) },
};

/**
 * Validates a parsed TOML document against the schema, filling defaults for absent keys. Unknown sections and
 * keys are errors: a misspelt `frames_neded` must not quietly leave the default in force.
 */
export function validateConfig(doc: unknown): Config {
  const cfg = defaultConfig();
  if (!isPlainObject(doc)) throw new ConfigError('(root)', 'must be a table');
  for (const [section, body] of Object.entries(doc)) {
    if (section === 'services') {
      if (!isPlainObject(body)) throw new ConfigError('services', `must be a table, got ${describe(body)}`);
      const enabled: Record<string, boolean> = { ...cfg.services.enabled };
      for (const [name, val] of Object.entries(body)) {
        const key = `services.${name}`;
        if (!SERVICE_RE.test(name)) throw new ConfigError(key, 'is not a valid PAM service name');
        const b = bool()(val, key) as boolean;
        if (name === 'default') cfg.services.default = b;
        else enabled[name] = b;
      }
      cfg.services.enabled = enabled;
      continue;
    }
    const schema = (SCHEMA as Record<string, Record<string, Checker> | undefined>)[section];
    if (!schema) {
      throw new ConfigError(section, `unknown section (known: ${[...Object.keys(SCHEMA), 'services'].join(', ')})`);
    }
    if (!isPlainObject(body)) throw new ConfigError(section, `must be a table, got ${describe(body)}`);
    const target = cfg[section as keyof typeof SCHEMA] as unknown as Record<string, unknown>;
    for (const [name, val] of Object.entries(body)) {
      const check = schema[name];
      const key = `${section}.${name}`;
      if (!check && REPLACED[key]) throw new ConfigError(key, REPLACED[key]);
      if (!check) throw new ConfigError(key, `unknown key (known in [${section}]: ${Object.keys(schema).join(', ')})`);
      target[name] = check(val, key);
    }
  }
  if (cfg.camera.device.startsWith('replay:') && !cfg.camera.allow_replay) {
    throw new ConfigError('camera.device', 'replay: cameras are accepted only with camera.allow_replay = true (tests and benches)');
  }
  if (cfg.verify.min_brightness >= cfg.verify.max_brightness) {
    throw new ConfigError('verify.min_brightness', `must be below verify.max_brightness (${cfg.verify.max_brightness})`);
  }
  return cfg;
}

/**
 * Every key the config file accepts, as `section.key` (`services.default` plus the per-service switches, which
 * are free-form PAM service names). The man page test (test/man-pages.test.ts) reads this list, so a new key
 * cannot ship undocumented.
 */
export function configKeys(): string[] {
  return [...Object.entries(SCHEMA).flatMap(([section, keys]) => Object.keys(keys).map((k) => `${section}.${k}`)), 'services.default'];
}

/** Whether a PAM service may use face authentication under this config. */
export function serviceEnabled(cfg: Config, service: string): boolean {
  return Object.hasOwn(cfg.services.enabled, service) ? cfg.services.enabled[service] === true : cfg.services.default;
}

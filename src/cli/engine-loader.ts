import type { Config } from '../config/config.js';
import type { FaceEngine } from '../auth/engine.js';
import { VisionEngine } from '../auth/vision-engine.js';
import { loadConfiguredLiveness, type LoadedLiveness } from '../liveness/load.js';
import { CliError, EXIT } from './command-support.js';

/** Loads the models the way facegated does, so enroll/test decide exactly like the daemon. */
export async function loadEngine(cfg: Config): Promise<FaceEngine> {
  try {
    return await VisionEngine.load({
      embedders: cfg.verify.embedders,
      targetFar: cfg.verify.target_far,
      rule: { kind: cfg.verify.rule, frames: cfg.verify.rule_frames },
      ...(cfg.daemon.threads > 0 ? { intraOpThreads: cfg.daemon.threads } : {}),
    });
  } catch (err) {
    throw new CliError(`cannot load the face models: ${(err as Error).message}`);
  }
}

/** The liveness judge facegated would use with this config (null when liveness.enabled is false). */
export async function loadLivenessFor(cfg: Config): Promise<LoadedLiveness | null> {
  try {
    return await loadConfiguredLiveness(cfg.liveness, cfg.daemon.threads > 0 ? cfg.daemon.threads : undefined);
  } catch (err) {
    throw new CliError(`cannot load liveness: ${(err as Error).message}`);
  }
}

export function positiveInt(name: string, value: string, max: number): number {
  if (!/^[1-9][0-9]*$/.test(value) || Number(value) > max) throw new CliError(`${name} must be an integer 1..${max}, got "${value}"`, EXIT.USAGE);
  return Number(value);
}

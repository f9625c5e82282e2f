import type { Config } from '../config/config.js';

/** Whether the config names this PAM service a greeter or lock screen: one that may run outside any session. */
export function isGreeter(cfg: Config, service: string): boolean {
  return cfg.local.greeters.includes(service);
}

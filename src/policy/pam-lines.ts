import type { Config } from '../config/config.js';
import { serviceEnabled } from '../config/config.js';
import { isGreeter } from './services.js';

/**
 * What is inconsistent between one /etc/pam.d service file that uses pam_facegate and the daemon's policy
 * (`facegate doctor` reports these). Empty when the file and the config agree.
 */
export function pamServiceProblems(service: string, text: string, cfg: Config): string[] {
  const lines = text.split('\n').map((l) => l.replace(/#.*/, '').trim());
  const auth = lines.filter((l) => /^-?auth\s/.test(l) && /pam_facegate\.so/.test(l));
  if (auth.length === 0) return [];
  const problems: string[] = [];
  if (!serviceEnabled(cfg, service)) problems.push(`${service}: not enabled in [services], so the daemon answers "disabled" (add ${service} = true)`);
  const hasGreeter = auth.some((l) => /pam_facegate\.so\b.*\sgreeter(\s|$)/.test(`${l} `));
  if (hasGreeter && !isGreeter(cfg, service))
    problems.push(`${service}: the PAM line says greeter but [local] greeters does not list it, so outside a session the daemon refuses it`);
  if (!hasGreeter && isGreeter(cfg, service))
    problems.push(`${service}: listed in [local] greeters but its PAM line lacks the greeter option, so outside a session the module refuses it`);
  if (!lines.some((l) => /^-?account\s/.test(l) && /pam_facegate\.so/.test(l))) {
    problems.push(`${service}: no "account optional pam_facegate.so" line, so a password success there does not end a face lockout`);
  }
  return problems;
}

import fs from 'node:fs';
import type { Command } from 'commander';
import { TemplateStore } from '../../store/store.js';
import { checkArgs, CliError, configFrom, EXIT, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';

/**
 * facegate unlock USER: clears the user's failed-attempt counter, ending a face lockout (docs/lockout.md).
 * Root only, like enrol and remove: the counter lives in the template database, which only root and the daemon's
 * user can write, and a user able to clear their own counter would get unlimited tries.
 */
export function registerUnlock(program: Command): void {
  withCommonOptions(program.command('unlock <user>').description("end a user's face lockout (clears the failed-attempt counter; root only)"), {
    socket: false,
  }).action((user: string, opts: CommonOptions) =>
    run(opts, async () => {
      const cfg = configFrom(opts);
      checkArgs(user);
      if (process.getuid?.() !== 0) throw new CliError(`only root may unlock a user: run "sudo facegate unlock ${user}"`, EXIT.UNAVAILABLE);
      if (!fs.existsSync(cfg.daemon.db)) {
        say(opts, `${user} has no failed face attempts (no database at ${cfg.daemon.db}).`);
        return { json: { user, cleared: false }, code: EXIT.OK };
      }
      const store = TemplateStore.open(cfg.daemon.db);
      try {
        const cleared = store.lockout.clear(user);
        say(opts, cleared ? `Cleared the failed face attempts of ${user}; face authentication is open to them again.` : `${user} has no failed face attempts.`);
        return { json: { user, cleared }, code: EXIT.OK };
      } finally {
        store.close();
      }
    }),
  );
}

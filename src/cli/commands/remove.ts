import type { Command } from 'commander';
import { TemplateStore } from '../../store/store.js';
import { checkArgs, CliError, configFrom, EXIT, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';

interface RemoveOptions extends CommonOptions {
  all?: boolean;
}

/** facegate remove USER [ID | --all]. */
export function registerRemove(program: Command): void {
  withCommonOptions(
    program
      .command('remove <user> [id]')
      .description('remove one enrolled face of a user (ID from "facegate list USER"), or all of them with --all')
      .option('--all', 'remove every face of the user'),
    { socket: false },
  ).action((user: string, id: string | undefined, opts: RemoveOptions) =>
    run(opts, async () => {
      const cfg = configFrom(opts);
      checkArgs(user);
      if ((id === undefined) === (opts.all !== true)) throw new CliError('give either a face ID or --all', EXIT.USAGE);
      if (id !== undefined && !/^[1-9][0-9]{0,15}$/.test(id)) throw new CliError(`face ID must be a positive integer, got "${id}"`, EXIT.USAGE);
      const store = TemplateStore.open(cfg.daemon.db);
      try {
        if (opts.all) {
          const n = store.removeUser(user);
          say(opts, n === 0 ? `${user} has no enrolled face.` : `Removed ${n} face${n === 1 ? '' : 's'} of ${user}.`);
          return { json: { user, removed: n }, code: n === 0 ? EXIT.FAIL : EXIT.OK };
        }
        const ok = store.removeFace(user, Number(id));
        say(opts, ok ? `Removed face ${id} of ${user}.` : `${user} has no face ${id}.`);
        return { json: { user, removed: ok ? 1 : 0, id: Number(id) }, code: ok ? EXIT.OK : EXIT.FAIL };
      } finally {
        store.close();
      }
    }),
  );
}

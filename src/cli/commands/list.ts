import type { Command } from 'commander';
import { TemplateStore } from '../../store/store.js';
import { checkArgs, CliError, configFrom, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';

/** facegate list [USER]: enrolled users, or one user's faces. */
export function registerList(program: Command): void {
  withCommonOptions(program.command('list [user]').description('list enrolled users, or the faces of one user'), { socket: false }).action(
    (user: string | undefined, opts: CommonOptions) =>
      run(opts, async () => {
        const cfg = configFrom(opts);
        if (user !== undefined) {
          checkArgs(user);
        }
        let store: TemplateStore;
        try {
          store = TemplateStore.open(cfg.daemon.db, { readonly: true });
        } catch (err) {
          if (/does not exist/.test((err as Error).message)) {
            say(opts, 'No faces enrolled.');
            return { json: user === undefined ? { users: [] } : { user, faces: [] } };
          }
          throw new CliError(`cannot open ${cfg.daemon.db}: ${(err as Error).message}`);
        }
        try {
          if (user === undefined) {
            const users = store.listUsers();
            if (users.length === 0) say(opts, 'No faces enrolled.');
            for (const u of users) say(opts, `${u.user}\t${u.faces} face${u.faces === 1 ? '' : 's'}\t${u.templates} templates`);
            return { json: { users } };
          }
          const faces = store.listFaces(user).map((f) => ({ id: f.id, label: f.label, created: new Date(f.created).toISOString(), models: f.models }));
          if (faces.length === 0) say(opts, `${user} has no enrolled face.`);
          for (const f of faces) say(opts, `${f.id}\t${f.label}\t${f.created}\t${f.models.map((m) => `${m.id}@${m.sha256.slice(0, 12)}`).join(', ')}`);
          return { json: { user, faces } };
        } finally {
          store.close();
        }
      }),
  );
}

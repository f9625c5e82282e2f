import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { probeSocket } from '../../daemon/client.js';
import { readStatus } from '../../daemon/status-file.js';
import { modelsDir } from '../../paths.js';
import { TemplateStore, type UserSummary } from '../../store/store.js';
import { configFrom, EXIT, run, say, withCommonOptions, type CommonOptions } from '../command-support.js';

/** models/manifest.json as { id: sha256 }, or null if the models are not built. */
export function builtModels(): Record<string, string> | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(modelsDir(), 'manifest.json'), 'utf8')) as Record<string, { sha256?: unknown }>;
    return Object.fromEntries(Object.entries(m).map(([id, e]) => [id, typeof e.sha256 === 'string' ? e.sha256 : '?']));
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** facegate status: is the daemon up, with which models and camera, and who is enrolled. */
export function registerStatus(program: Command): void {
  withCommonOptions(program.command('status').description('daemon state, models and their checksums, camera, enrolled users')).action((opts: CommonOptions) =>
    run(opts, async () => {
      const cfg = configFrom(opts);
      const accepting = await probeSocket(cfg.daemon.socket);
      const st = readStatus(cfg.daemon.socket);
      const running = st !== null && alive(st.pid);
      let users: UserSummary[] | null = null;
      let usersError: string | undefined;
      try {
        const store = TemplateStore.open(cfg.daemon.db, { readonly: true });
        try {
          users = store.listUsers();
        } finally {
          store.close();
        }
      } catch (err) {
        usersError = (err as Error).message;
      }
      const models = builtModels();
      const json = {
        daemon: {
          socket: cfg.daemon.socket,
          accepting,
          running,
          pid: running ? st!.pid : null,
          ready_ms: running ? st!.ready_ms : null,
          started: running ? st!.started : null,
          models: running ? st!.models : null,
          camera: running ? st!.camera : null,
        },
        camera: cfg.camera.device,
        models_dir: modelsDir(),
        models_built: models,
        db: cfg.daemon.db,
        users,
        ...(usersError ? { users_error: usersError } : {}),
      };
      say(
        opts,
        `daemon:  ${accepting ? 'accepting connections' : 'not reachable'} on ${cfg.daemon.socket}${running ? ` (pid ${st!.pid}, ready in ${st!.ready_ms} ms)` : accepting ? ' (socket-activated, starts on first request)' : ''}`,
      );
      if (running) for (const m of st!.models) say(opts, `  model ${m.id} sha256 ${m.sha256}`);
      say(opts, `camera:  ${running ? st!.camera : cfg.camera.device}`);
      say(
        opts,
        `models:  ${
          models
            ? Object.entries(models)
                .map(([id, sha]) => `${id} ${sha.slice(0, 12)}`)
                .join(', ')
            : `not built in ${modelsDir()}`
        }`,
      );
      if (users) say(opts, `users:   ${users.length === 0 ? 'none enrolled' : users.map((u) => `${u.user} (${u.faces})`).join(', ')}`);
      else say(opts, `users:   unknown (${usersError})`);
      return { json, code: accepting ? EXIT.OK : EXIT.UNAVAILABLE };
    }),
  );
}

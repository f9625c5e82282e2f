import fs from 'node:fs';

/**
 * Refuses a directory the daemon would put its socket or status file in when someone else could replace what is
 * inside: it must be a real directory (not a symlink), owned by root or by the daemon's own user, and writable by
 * neither its group nor others. Throws an Error naming the problem.
 */
export function checkPrivateDir(dir: string, uid: number = process.getuid?.() ?? 0): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    throw new Error(`socket directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (st.isSymbolicLink()) throw new Error(`socket directory ${dir} is a symbolic link`);
  if (!st.isDirectory()) throw new Error(`socket directory ${dir} is not a directory`);
  if (st.uid !== 0 && st.uid !== uid) throw new Error(`socket directory ${dir} is owned by uid ${st.uid}, not root or the daemon's user (uid ${uid})`);
  if ((st.mode & 0o022) !== 0) {
    throw new Error(
      `socket directory ${dir} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)}); it must be 0755 or tighter`,
    );
  }
}

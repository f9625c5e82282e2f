// Minimal typings for the parts of better-sqlite3 12 that src/store uses (@types/better-sqlite3 is not a
// dependency). Row values are `unknown` on purpose: the store validates what it reads.
declare module 'better-sqlite3' {
  interface RunResult {
    changes: number;
    lastInsertRowid: number | bigint;
  }
  interface Statement<P extends unknown[] = unknown[]> {
    run(...params: P): RunResult;
    get(...params: P): unknown;
    all(...params: P): unknown[];
  }
  interface Options {
    readonly?: boolean;
    fileMustExist?: boolean;
    timeout?: number;
  }
  interface Database {
    readonly open: boolean;
    readonly name: string;
    prepare<P extends unknown[] = unknown[]>(sql: string): Statement<P>;
    exec(sql: string): this;
    pragma(source: string, options?: { simple?: boolean }): unknown;
    transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
    close(): this;
  }
  interface DatabaseConstructor {
    new (filename: string, options?: Options): Database;
    (filename: string, options?: Options): Database;
  }
  const Database: DatabaseConstructor;
  export default Database;
}

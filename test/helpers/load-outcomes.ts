// What a load-test client (load-client.ts) reports to the harness (load-harness.ts).

export interface RequestOutcome {
  /**
   * `result/reason` when the answer came before the PAM module's timeout, `late` when it came after it, `timeout`
   * when none came even LATE_WAIT_MS after the deadline, `closed` or `connect` when the connection failed.
   */
  outcome: string;
  ms: number;
}

export interface GarbageOutcome {
  /** Connections the daemon closed (refused at once, or dropped at its request timeout). */
  closedByServer: number;
  /** Connections still open when the hold time ran out. */
  stillOpen: number;
  closeMs: number[];
}

/** The PAM module gives up this long after the request's deadline (ANSWER_GRACE_MS in pam/pam_facegate.c). */
export const PAM_GRACE_MS = 250;

/** How long past its deadline a load client still waits for a late answer. */
export const LATE_WAIT_MS = 20_000;

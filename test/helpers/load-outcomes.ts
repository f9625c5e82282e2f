// What a load-test client (load-client.ts) reports to the harness (load-harness.ts).

export interface RequestOutcome {
  /** `result/reason`, or `timeout`, `closed`, `connect` when no answer came before the PAM module's timeout. */
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

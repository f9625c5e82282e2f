/* The local/remote rule, C side. src/policy/locality.ts is its TypeScript twin and the daemon applies it too;
 * test/policy-parity.test.ts runs one table of inputs through both (pam/build/fg-policy) and they must agree.
 * docs/policy.md states the rule. */
#ifndef FACEGATE_POLICY_H
#define FACEGATE_POLICY_H

#include <stdbool.h>

/* What logind says about the calling process: sd_pid_get_session() + sd_session_is_remote(). */
enum fg_session {
	FG_SESSION_LOCAL, /* in a logind session that is not remote */
	FG_SESSION_REMOTE, /* in a remote session (sshd, or any session opened with PAM_RHOST set) */
	FG_SESSION_NONE, /* in no session at all (systemd --user units, daemons, a greeter before login) */
	FG_SESSION_ERROR, /* the lookup failed */
	FG_SESSION_COUNT
};

enum fg_locality {
	FG_LOCAL,
	FG_REMOTE_HOST, /* PAM_RHOST is set: any value, localhost included */
	FG_REMOTE_SESSION, /* logind marks the session remote */
	FG_NO_SESSION, /* no session or a failed lookup, and the service is not a greeter */
	FG_LOCALITY_COUNT
};

const char *fg_session_name(enum fg_session s);
const char *fg_locality_name(enum fg_locality l);

/* rhost: PAM_RHOST or "" (never NULL); greeter: the service runs outside a user session by design (login
 * screens, lock screens) and the administrator said so. Only FG_LOCAL may use the camera. */
enum fg_locality fg_classify(const char *rhost, enum fg_session session, bool greeter);

#endif

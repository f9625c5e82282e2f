/* The local/remote rule, C side. src/policy/locality.ts is its TypeScript twin and the daemon applies it too;
 * test/policy.test.ts runs one table of inputs through both (pam/build/fg-policy) and they must agree.
 * docs/policy.md states the rule. Pure: pam/logind.c does the lookups. */
#ifndef FACEGATE_POLICY_H
#define FACEGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* What logind says about the calling process: sd_pid_get_session() and that session's facts. */
enum fg_session {
	FG_SESSION_LOCAL, /* in a logind session that is not remote (fg_session_kind) */
	FG_SESSION_REMOTE, /* in a remote session (sshd, any session with a remote host, a seatless login) */
	FG_SESSION_NONE, /* in no session at all (systemd --user units, daemons, a greeter before login) */
	FG_SESSION_ERROR, /* the lookup failed */
	FG_SESSION_COUNT
};

/* One logind session as sd_session_is_remote/_get_remote_host/_get_seat/_is_active/_get_type report it. */
struct fg_session_facts {
	bool remote; /* REMOTE=: logind's own flag (it leaves localhost out) */
	bool remote_host; /* REMOTE_HOST= is set, whatever it says */
	bool seat; /* SEAT= is set */
	bool active; /* ACTIVE=: the session is in the foreground of its seat */
	const char *type; /* TYPE=: tty, x11, wayland, mir, unspecified, web */
};

/* What one session says about where its user is. */
enum fg_kind {
	FG_KIND_SEAT_ACTIVE, /* on a seat, in the foreground, a terminal or graphical login: someone is there */
	FG_KIND_SEAT_INACTIVE, /* on a seat, switched away or not interactive */
	FG_KIND_REMOTE, /* remote flag, any remote host (localhost too), or an interactive login without a seat */
	FG_KIND_OTHER, /* seatless and not interactive: the user manager, background sessions */
	FG_KIND_COUNT
};

/* The calling user's sessions, consulted only when the calling process is in none. */
enum fg_user {
	FG_USER_LOCAL, /* at least one FG_KIND_SEAT_ACTIVE session and no FG_KIND_REMOTE one */
	FG_USER_REMOTE, /* at least one FG_KIND_REMOTE session */
	FG_USER_NONE, /* no remote session, but no active one on a seat either */
	FG_USER_ERROR, /* a lookup failed */
	FG_USER_COUNT
};

enum fg_locality {
	FG_LOCAL,
	FG_REMOTE_HOST, /* PAM_RHOST is set: any value, localhost included */
	FG_REMOTE_SESSION, /* the caller's session is remote */
	FG_NO_SESSION, /* no session or a failed lookup, not a greeter, and the user has no active seat session */
	FG_USER_REMOTE_SESSION, /* no session, and the user is also logged in remotely */
	FG_LOCALITY_COUNT
};

const char *fg_session_name(enum fg_session s);
const char *fg_kind_name(enum fg_kind k);
const char *fg_user_name(enum fg_user u);
const char *fg_locality_name(enum fg_locality l);

enum fg_kind fg_session_kind(const struct fg_session_facts *f);
/* Summary of a user's sessions whose facts were all read; a failed read is FG_USER_ERROR, decided by the caller. */
enum fg_user fg_user_summary(const enum fg_kind *kinds, size_t n);

/* rhost: PAM_RHOST or "" (NULL counts as remote); greeter: the service runs outside a user session by design
 * (login screens, lock screens) and the administrator said so; user: the calling uid's sessions (read only when
 * session is FG_SESSION_NONE, else ignored). Only FG_LOCAL may use the camera. */
enum fg_locality fg_classify(const char *rhost, enum fg_session session, bool greeter, enum fg_user user);

#endif

/* The local/remote rule (docs/policy.md). Pure: the caller looks the sessions up (pam/logind.c). */
#include "policy.h"

#include <string.h>

static const char *const session_names[FG_SESSION_COUNT] = { "local", "remote", "none", "error" };
static const char *const kind_names[FG_KIND_COUNT] = { "seat-active", "seat-inactive", "remote", "other" };
static const char *const user_names[FG_USER_COUNT] = { "local", "remote", "none", "error" };
static const char *const locality_names[FG_LOCALITY_COUNT] = { "local", "remote-host", "remote-session", "no-session",
							       "user-remote" };

const char *fg_session_name(enum fg_session s)
{
	return (unsigned)s < FG_SESSION_COUNT ? session_names[s] : "?";
}

const char *fg_kind_name(enum fg_kind k)
{
	return (unsigned)k < FG_KIND_COUNT ? kind_names[k] : "?";
}

const char *fg_user_name(enum fg_user u)
{
	return (unsigned)u < FG_USER_COUNT ? user_names[u] : "?";
}

const char *fg_locality_name(enum fg_locality l)
{
	return (unsigned)l < FG_LOCALITY_COUNT ? locality_names[l] : "?";
}

static bool interactive_type(const char *type)
{
	return type != NULL && (strcmp(type, "tty") == 0 || strcmp(type, "x11") == 0 || strcmp(type, "wayland") == 0 ||
				strcmp(type, "mir") == 0);
}

enum fg_kind fg_session_kind(const struct fg_session_facts *f)
{
	/* logind leaves REMOTE=0 when the host is localhost: an ssh through a tunnel arrives from 127.0.0.1. */
	if (f->remote || f->remote_host)
		return FG_KIND_REMOTE;
	/* A terminal or graphical login without a seat is nobody at this machine's console: sshd without a
	 * recorded host, a remote desktop, a serial line. */
	if (!f->seat)
		return interactive_type(f->type) ? FG_KIND_REMOTE : FG_KIND_OTHER;
	return f->active && interactive_type(f->type) ? FG_KIND_SEAT_ACTIVE : FG_KIND_SEAT_INACTIVE;
}

enum fg_user fg_user_summary(const enum fg_kind *kinds, size_t n)
{
	bool here = false;
	for (size_t i = 0; i < n; i++) {
		if (kinds[i] == FG_KIND_REMOTE)
			return FG_USER_REMOTE;
		if (kinds[i] == FG_KIND_SEAT_ACTIVE)
			here = true;
	}
	return here ? FG_USER_LOCAL : FG_USER_NONE;
}

enum fg_locality fg_classify(const char *rhost, enum fg_session session, bool greeter, enum fg_user user)
{
	/* No exemption for localhost, 127.0.0.1 or ::1: a tunnel (ssh -L, a forwarded X or VNC session) arrives
	 * from loopback too, and whoever sits at the camera is not the one who typed. */
	if (rhost == NULL || rhost[0] != '\0')
		return FG_REMOTE_HOST;
	if (session == FG_SESSION_REMOTE)
		return FG_REMOTE_SESSION;
	if (session == FG_SESSION_LOCAL)
		return FG_LOCAL;
	/* The administrator named the service a greeter: it runs before or outside the user's session. */
	if (greeter)
		return FG_LOCAL;
	/* A failed lookup of the caller's own session is not looked past. */
	if (session != FG_SESSION_NONE)
		return FG_NO_SESSION;
	/* No session: a desktop terminal started as a user unit, or systemd-run/tmux reached over SSH. Only the
	 * user's sessions tell them apart; any remote one (or any doubt) means the person typing may be elsewhere. */
	if (user == FG_USER_REMOTE)
		return FG_USER_REMOTE_SESSION;
	return user == FG_USER_LOCAL ? FG_LOCAL : FG_NO_SESSION;
}

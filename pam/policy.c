/* The local/remote rule (docs/policy.md). Pure: the caller looks the session up. */
#include "policy.h"

#include <stddef.h>

static const char *const session_names[FG_SESSION_COUNT] = { "local", "remote", "none", "error" };
static const char *const locality_names[FG_LOCALITY_COUNT] = { "local", "remote-host", "remote-session",
								"no-session" };

const char *fg_session_name(enum fg_session s)
{
	return (unsigned)s < FG_SESSION_COUNT ? session_names[s] : "?";
}

const char *fg_locality_name(enum fg_locality l)
{
	return (unsigned)l < FG_LOCALITY_COUNT ? locality_names[l] : "?";
}

enum fg_locality fg_classify(const char *rhost, enum fg_session session, bool greeter)
{
	/* No exemption for localhost, 127.0.0.1 or ::1: a tunnel (ssh -L, a forwarded X or VNC session) arrives
	 * from loopback too, and whoever sits at the camera is not the one who typed. */
	if (rhost == NULL || rhost[0] != '\0')
		return FG_REMOTE_HOST;
	if (session == FG_SESSION_REMOTE)
		return FG_REMOTE_SESSION;
	if (session == FG_SESSION_LOCAL)
		return FG_LOCAL;
	/* No session or an unknown answer: fail closed, except where the administrator named the service a greeter. */
	return greeter ? FG_LOCAL : FG_NO_SESSION;
}

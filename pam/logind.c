/* sd-login lookups for the local rule. The decisions are in policy.c; here only reading, failing closed. */
#include "logind.h"

#include <errno.h>
#include <stdlib.h>

#include <systemd/sd-login.h>

/* 0 with f filled (f->type then owns a malloc'd string), or a negative errno. Only an absent SEAT= or
 * REMOTE_HOST= (-ENODATA) is an answer; every other failure is an error. */
static int session_facts(const char *id, struct fg_session_facts *f)
{
	char *s = NULL, *type = NULL;
	int remote = sd_session_is_remote(id);
	if (remote < 0)
		return remote;
	int host = sd_session_get_remote_host(id, &s);
	free(s);
	s = NULL;
	if (host < 0 && host != -ENODATA)
		return host;
	int seat = sd_session_get_seat(id, &s);
	free(s);
	if (seat < 0 && seat != -ENODATA)
		return seat;
	int active = sd_session_is_active(id);
	if (active < 0)
		return active;
	int r = sd_session_get_type(id, &type);
	if (r < 0 || type == NULL) {
		free(type);
		return r < 0 ? r : -EIO;
	}
	f->remote = remote > 0;
	f->remote_host = host >= 0;
	f->seat = seat >= 0;
	f->active = active > 0;
	f->type = type;
	return 0;
}

static int session_kind_of(const char *id, enum fg_kind *kind)
{
	struct fg_session_facts f;
	int r = session_facts(id, &f);
	if (r < 0)
		return r;
	*kind = fg_session_kind(&f);
	free((char *)f.type);
	return 0;
}

enum fg_session fg_own_session(void)
{
	char *id = NULL;
	int r = sd_pid_get_session(0, &id);
	if (r == -ENODATA || r == -ENXIO)
		return FG_SESSION_NONE;
	if (r < 0 || id == NULL) {
		free(id);
		return FG_SESSION_ERROR;
	}
	enum fg_kind kind = FG_KIND_OTHER;
	r = session_kind_of(id, &kind);
	free(id);
	if (r < 0)
		return FG_SESSION_ERROR;
	return kind == FG_KIND_REMOTE ? FG_SESSION_REMOTE : FG_SESSION_LOCAL;
}

enum fg_user fg_user_sessions(uid_t uid)
{
	char **ids = NULL;
	/* Negative require_active: closing sessions too, so an SSH login that left a user unit behind still counts. */
	int n = sd_uid_get_sessions(uid, -1, &ids);
	if (n < 0)
		return FG_USER_ERROR;
	enum fg_user u = FG_USER_NONE;
	enum fg_kind *kinds = n > 0 ? calloc((size_t)n, sizeof *kinds) : NULL;
	if (n > 0 && (kinds == NULL || ids == NULL)) {
		u = FG_USER_ERROR;
	} else {
		int i = 0;
		for (; i < n && ids[i] != NULL; i++)
			if (session_kind_of(ids[i], &kinds[i]) < 0)
				break;
		u = i == n ? fg_user_summary(kinds, (size_t)n) : FG_USER_ERROR;
	}
	free(kinds);
	for (int i = 0; ids != NULL && ids[i] != NULL; i++)
		free(ids[i]);
	free(ids);
	return u;
}

/* pam_facegate: asks facegated over a Unix socket whether the face in front of the camera is the user's.
 *
 *   auth     sufficient pam_facegate.so [socket=PATH] [timeout=SECONDS] [daemon_user=NAME] [greeter] [debug] [notice]
 *   account  optional   pam_facegate.so [socket=PATH] [daemon_user=NAME] [debug]
 *
 * Only a well-formed allow/match answer gives PAM_SUCCESS; deny gives PAM_AUTH_ERR; everything else
 * (unavailable, locked-out, no daemon, timeout, protocol error, bad option, a remote caller, an answer from a
 * socket that neither root nor daemon_user owns) gives PAM_AUTHINFO_UNAVAIL so the stack falls through to the
 * password. The whole exchange runs under one deadline on CLOCK_MONOTONIC with non-blocking I/O behind poll().
 * The account phase tells the daemon that this handle authenticated another way after a face attempt failed,
 * which clears the user's lockout counter (docs/lockout.md); it never changes the stack's result.
 * Protocol: docs/protocol.md. Local rule: docs/policy.md (pam/policy.c). */
#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "logind.h"
#include "policy.h"
#include "protocol.h"

#define FG_EXPORT           __attribute__((visibility("default")))
#define DEFAULT_SOCKET      "/run/facegate/facegate.sock"
#define DEFAULT_TIMEOUT_S   4
#define MAX_TIMEOUT_S       600
/* Time allowed past the daemon's deadline for its final answer to arrive; keeps us under timeout + 0.5 s. */
#define ANSWER_GRACE_MS     250
/* The daemon answers a reset at once; the account phase never waits longer than this. */
#define RESET_BUDGET_MS     1000
#define DEFAULT_DAEMON_USER "facegate"
#define MAX_USER_NAME       64
/* pam_set_data key: set by the auth phase when a face attempt did not authenticate (read by the account phase). */
#define ATTEMPT_DATA        "pam_facegate_face_failed"

struct options {
	const char *socket_path;
	unsigned timeout_s;
	const char *daemon_user;
	bool greeter;
	bool debug;
	bool notice;
};

static const char *const event_text[FG_EV_COUNT] = {
	[FG_EV_QUEUED] = "Waiting for the camera…",
	[FG_EV_LOOKING] = "Looking for your face…",
	[FG_EV_NO_FACE] = "No face detected",
	[FG_EV_TOO_DARK] = "Too dark, face the camera",
	[FG_EV_TOO_FAR] = "Move closer to the camera",
	[FG_EV_BLURRY] = "Hold still",
	[FG_EV_RETRY] = "Face not recognised, trying again…",
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
	o->socket_path = DEFAULT_SOCKET;
	o->timeout_s = DEFAULT_TIMEOUT_S;
	o->daemon_user = DEFAULT_DAEMON_USER;
	o->greeter = false;
	o->debug = false;
	o->notice = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "debug") == 0) {
			o->debug = true;
		} else if (strcmp(a, "greeter") == 0) {
			o->greeter = true;
		} else if (strncmp(a, "daemon_user=", 12) == 0) {
			const char *u = a + 12;
			size_t n = strlen(u);
			bool ok = n > 0 && n <= MAX_USER_NAME && u[0] != '-';
			for (size_t k = 0; ok && k < n; k++)
				ok = (u[k] >= 'a' && u[k] <= 'z') || (u[k] >= 'A' && u[k] <= 'Z') ||
				     (u[k] >= '0' && u[k] <= '9') || u[k] == '_' || u[k] == '-' || u[k] == '.';
			if (!ok) {
				pam_syslog(pamh, LOG_ERR,
					   "daemon_user= must be a user name of 1..%d characters [A-Za-z0-9._-]",
					   MAX_USER_NAME);
				return false;
			}
			o->daemon_user = u;
		} else if (strcmp(a, "notice") == 0) {
			o->notice = true;
		} else if (strncmp(a, "socket=", 7) == 0) {
			const char *p = a + 7;
			if (p[0] != '/' || strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
				pam_syslog(pamh, LOG_ERR, "socket= must be an absolute path shorter than %zu bytes",
					   sizeof(((struct sockaddr_un *)0)->sun_path));
				return false;
			}
			o->socket_path = p;
		} else if (strncmp(a, "timeout=", 8) == 0) {
			const char *p = a + 8;
			char *end;
			errno = 0;
			unsigned long v = (p[0] >= '0' && p[0] <= '9') ? strtoul(p, &end, 10) : 0;
			if (errno != 0 || v < 1 || v > MAX_TIMEOUT_S || *end != '\0') {
				pam_syslog(pamh, LOG_ERR, "timeout= must be whole seconds, 1..%d", MAX_TIMEOUT_S);
				return false;
			}
			o->timeout_s = (unsigned)v;
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", a);
			return false;
		}
	}
	return true;
}

/* A face in front of this machine's camera proves nothing about a user logged in from elsewhere. The rule
 * (pam/policy.c) is the daemon's too; this copy only saves the round trip. When this process is in no session
 * (a desktop terminal started as a user unit), the user whose sessions decide is this process's real uid: the
 * person who typed (sudo's and su's invoker), not PAM_USER (su's target, or root under sudo's rootpw). */
static bool is_remote(pam_handle_t *pamh, const char *rhost, const struct options *o)
{
	enum fg_session session = fg_own_session();
	bool ask_user = rhost[0] == '\0' && session == FG_SESSION_NONE && !o->greeter;
	enum fg_user user = ask_user ? fg_user_sessions(getuid()) : FG_USER_ERROR;
	enum fg_locality l = fg_classify(rhost, session, o->greeter, user);
	if (l != FG_LOCAL && o->debug)
		pam_syslog(pamh, LOG_DEBUG, "%s (rhost \"%.64s\", session %s, uid %u sessions %s%s): skipped",
			   fg_locality_name(l), rhost, fg_session_name(session), (unsigned)getuid(),
			   ask_user ? fg_user_name(user) : "unread", o->greeter ? ", greeter" : "");
	return l != FG_LOCAL;
}

/* The uid of the daemon's system user, or (uid_t)-1 if it has none (then only root may answer). */
static uid_t daemon_uid(const char *name)
{
	struct passwd pw, *res = NULL;
	size_t cap = 4096;
	for (;;) {
		char *buf = malloc(cap);
		if (buf == NULL)
			return (uid_t)-1;
		int r = getpwnam_r(name, &pw, buf, cap, &res);
		uid_t uid = (r == 0 && res != NULL) ? pw.pw_uid : (uid_t)-1;
		free(buf);
		if (r != ERANGE || cap >= (1u << 20))
			return uid;
		cap *= 2;
	}
}

/* Only root or the daemon's own user may answer: anyone else listening on the path (a stale socket in a
 * directory the daemon no longer owns, a user's fake) must never be believed, nor told whom we authenticate. */
static bool trusted_peer(pam_handle_t *pamh, int fd, const struct options *o)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "cannot read the daemon's credentials: refused");
		return false;
	}
	if (cred.uid == 0)
		return true;
	uid_t want = daemon_uid(o->daemon_user);
	if (want != (uid_t)-1 && want != 0 && cred.uid == want)
		return true;
	if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "socket peer uid %u is neither root nor %s: refused", (unsigned)cred.uid,
			   o->daemon_user);
	return false;
}

/* Waits for ev on fd until the deadline. 0 when ready, -ETIMEDOUT or another -errno otherwise. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = ev, .revents = 0 };
		int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0; /* readiness, hang-up or error: the following read/write/getsockopt tells which */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_socket(const char *path, int64_t deadline)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1); /* length checked in parse_options */

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	int err = errno;
	if (err == EINPROGRESS || err == EINTR) {
		err = -wait_fd(fd, POLLOUT, deadline);
		socklen_t len = sizeof err;
		if (err == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0)
			return fd;
	}
	/* EAGAIN: the daemon's backlog is full. Falling through to the password beats waiting. */
	close(fd);
	return -err;
}

static int send_all(int fd, const unsigned char *buf, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			buf += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads exactly n bytes into buf, counting them in *got. 0 on success; -EPROTO at end of stream;
 * -EBADMSG when check_prefix and the bytes so far cannot start a frame; -ETIMEDOUT; other -errno. */
static int read_exact(int fd, unsigned char *buf, size_t n, size_t *got, int64_t deadline, bool check_prefix)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = recv(fd, buf + *got, n - *got, MSG_DONTWAIT);
		if (r > 0) {
			*got += (size_t)r;
			/* Reject garbage as soon as its first bytes arrive rather than waiting for a full header. */
			if (check_prefix && fg_check_header_prefix(buf, *got) != FG_OK)
				return -EBADMSG;
			continue;
		}
		if (r == 0)
			return -EPROTO;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int w = wait_fd(fd, POLLIN, deadline);
		if (w < 0)
			return w;
	}
	return 0;
}

struct outcome {
	int pam;
	const char *why; /* for debug logs */
	const char *detail; /* static string or NULL */
	int err; /* errno, 0 if none */
	bool answered; /* a well-formed answer arrived: result and reason hold it */
	enum fg_result result;
	enum fg_reason reason;
};

static void set(struct outcome *o, int pam, const char *why, const char *detail, int err)
{
	o->pam = pam;
	o->answered = false;
	o->why = why;
	o->detail = detail;
	o->err = err;
}

/* Maps a read failure to the outcome; e is the protocol error when r == -EBADMSG. */
static void read_failed(struct outcome *out, int r, bool nothing_read, enum fg_err e)
{
	if (r == -ETIMEDOUT)
		set(out, PAM_AUTHINFO_UNAVAIL, "timed out", NULL, 0);
	else if (r == -EPROTO && nothing_read)
		set(out, PAM_AUTHINFO_UNAVAIL, "daemon closed without an answer", NULL, 0);
	else if (r == -EPROTO)
		set(out, PAM_AUTHINFO_UNAVAIL, "protocol error", fg_err_name(FG_ERR_TRUNCATED), 0);
	else if (r == -EBADMSG)
		set(out, PAM_AUTHINFO_UNAVAIL, "protocol error", fg_err_name(e), 0);
	else
		set(out, PAM_AUTHINFO_UNAVAIL, "read failed", NULL, -r);
}

/* Reads events until the answer; the only path to PAM_SUCCESS is a parsed allow/match answer. */
static void converse(pam_handle_t *pamh, int fd, int64_t deadline, const struct options *opt, int flags,
		     struct outcome *out)
{
	unsigned char frame[FG_MAX_FRAME];
	int last_event = -1;

	for (;;) {
		size_t got = 0, len = 0;
		int r = read_exact(fd, frame, FG_HEADER_SIZE, &got, deadline, true);
		if (r < 0) {
			read_failed(out, r, got == 0, fg_check_header_prefix(frame, got));
			return;
		}
		enum fg_err e = fg_parse_header(frame, &len);
		if (e != FG_OK) {
			set(out, PAM_AUTHINFO_UNAVAIL, "protocol error", fg_err_name(e), 0);
			return;
		}
		r = read_exact(fd, frame + FG_HEADER_SIZE, len, &got, deadline, false);
		if (r < 0) {
			read_failed(out, r, false, FG_OK);
			return;
		}
		struct fg_msg m;
		e = fg_parse_payload(frame + FG_HEADER_SIZE, len, &m);
		if (e != FG_OK) {
			set(out, PAM_AUTHINFO_UNAVAIL, "protocol error", fg_err_name(e), 0);
			return;
		}
		if (m.type == FG_MSG_EVENT) {
			if (opt->debug)
				pam_syslog(pamh, LOG_DEBUG, "event %s", fg_event_name(m.event));
			if (opt->notice && !(flags & PAM_SILENT) && (int)m.event != last_event)
				pam_info(pamh, "%s", event_text[m.event]);
			last_event = (int)m.event;
			continue;
		}
		if (m.type != FG_MSG_ANSWER) {
			set(out, PAM_AUTHINFO_UNAVAIL, "protocol error", fg_err_name(FG_ERR_UNEXPECTED_TYPE), 0);
			return;
		}
		if (m.result == FG_RESULT_ALLOW && m.reason == FG_REASON_MATCH)
			set(out, PAM_SUCCESS, "allow", fg_reason_name(m.reason), 0);
		else if (m.result == FG_RESULT_DENY)
			set(out, PAM_AUTH_ERR, "deny", fg_reason_name(m.reason), 0);
		else
			set(out, PAM_AUTHINFO_UNAVAIL, fg_result_name(m.result), fg_reason_name(m.reason), 0);
		out->answered = true;
		out->result = m.result;
		out->reason = m.reason;
		return;
	}
}

static const char *item_or_empty(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == NULL)
		return "";
	return v;
}

/* Connects, checks who answers, sends one frame and reads events up to the answer. The outcome's PAM code is
 * the authentication mapping; callers that sent something else look at answered/result/reason. */
static void exchange(pam_handle_t *pamh, const unsigned char *msg, size_t msg_len, int64_t deadline,
		     const struct options *opt, int flags, struct outcome *out)
{
	int fd = connect_socket(opt->socket_path, deadline);
	if (fd < 0) {
		set(out, PAM_AUTHINFO_UNAVAIL, "cannot connect", NULL, -fd);
		return;
	}
	if (!trusted_peer(pamh, fd, opt)) {
		set(out, PAM_AUTHINFO_UNAVAIL, "untrusted socket owner", NULL, 0);
	} else {
		int w = send_all(fd, msg, msg_len, deadline);
		if (w < 0)
			set(out, PAM_AUTHINFO_UNAVAIL, "cannot send request", NULL, -w);
		else
			converse(pamh, fd, deadline, opt, flags, out);
	}
	close(fd);
}

static void log_outcome(pam_handle_t *pamh, const char *what, const char *user, const struct outcome *out, int result,
			int64_t start)
{
	char ebuf[128] = "";
	const char *es = out->err != 0 ? strerror_r(out->err, ebuf, sizeof ebuf) : NULL;
	pam_syslog(pamh, LOG_DEBUG, "%s user %s: %s%s%s%s%s -> %s after %lld ms", what, user, out->why,
		   out->detail ? " " : "", out->detail ? out->detail : "", es ? ": " : "", es ? es : "",
		   pam_strerror(pamh, result), (long long)(now_ms() - start));
}

static void no_cleanup(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh, (void)data, (void)status;
}

FG_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct options opt;
	if (!parse_options(pamh, argc, argv, &opt))
		return PAM_AUTHINFO_UNAVAIL;

	const char *rhost = item_or_empty(pamh, PAM_RHOST);
	if (is_remote(pamh, rhost, &opt))
		return PAM_AUTHINFO_UNAVAIL;

	const char *user = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || user[0] == '\0') {
		if (opt.debug)
			pam_syslog(pamh, LOG_DEBUG, "no user name");
		return PAM_AUTHINFO_UNAVAIL;
	}

	unsigned char req[FG_MAX_FRAME];
	size_t req_len = 0;
	struct fg_request r = {
		.user = user,
		.service = item_or_empty(pamh, PAM_SERVICE),
		.tty = item_or_empty(pamh, PAM_TTY),
		.rhost = rhost,
		.deadline_ms = opt.timeout_s * 1000u,
	};
	enum fg_err e = fg_encode_request(&r, req, sizeof req, &req_len);
	if (e != FG_OK) {
		if (opt.debug)
			pam_syslog(pamh, LOG_DEBUG, "cannot encode request: %s", fg_err_name(e));
		return PAM_AUTHINFO_UNAVAIL;
	}

	int64_t start = now_ms();
	int64_t deadline = start + (int64_t)opt.timeout_s * 1000 + ANSWER_GRACE_MS;
	struct outcome out;
	set(&out, PAM_AUTHINFO_UNAVAIL, "internal", NULL, 0);
	exchange(pamh, req, req_len, deadline, &opt, flags, &out);

	/* The face did not authenticate this local caller: if the stack then succeeds another way (the password)
	 * and the application runs the account phase, that phase clears the lockout counter. The marker lives in
	 * this handle only, so an account phase without an authentication (cron, a NOPASSWD sudo rule, a cached
	 * sudo timestamp) never clears anything. */
	if (out.pam != PAM_SUCCESS)
		(void)pam_set_data(pamh, ATTEMPT_DATA, (void *)ATTEMPT_DATA, no_cleanup);
	else
		(void)pam_set_data(pamh, ATTEMPT_DATA, NULL, NULL);

	if (opt.debug)
		log_outcome(pamh, "auth", user, &out, out.pam, start);
	return out.pam;
}

FG_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

/* Runs after the application accepted the authentication. Reports "authenticated another way" when this
 * handle's face attempt failed, so the daemon clears the counter (it accepts that from uid 0 only: see
 * docs/lockout.md for lock screens that run PAM as the user). Always PAM_IGNORE: never changes the stack. */
FG_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct options opt;
	if (!parse_options(pamh, argc, argv, &opt))
		return PAM_IGNORE;
	const void *marker = NULL;
	if (pam_get_data(pamh, ATTEMPT_DATA, &marker) != PAM_SUCCESS || marker == NULL) {
		if (opt.debug)
			pam_syslog(pamh, LOG_DEBUG,
				   "account: no failed face attempt in this handle, nothing to report");
		return PAM_IGNORE;
	}
	(void)pam_set_data(pamh, ATTEMPT_DATA, NULL, NULL); /* report once */
	const char *user = NULL;
	if (pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS || user == NULL || user[0] == '\0')
		return PAM_IGNORE;

	unsigned char msg[FG_MAX_FRAME];
	size_t msg_len = 0;
	struct fg_reset r = { .user = user, .service = item_or_empty(pamh, PAM_SERVICE) };
	if (fg_encode_reset(&r, msg, sizeof msg, &msg_len) != FG_OK)
		return PAM_IGNORE;
	int64_t start = now_ms();
	struct outcome out;
	set(&out, PAM_AUTHINFO_UNAVAIL, "internal", NULL, 0);
	exchange(pamh, msg, msg_len, start + RESET_BUDGET_MS, &opt, flags | PAM_SILENT, &out);
	if (opt.debug)
		log_outcome(pamh, "reset", user, &out, PAM_IGNORE, start);
	return PAM_IGNORE;
}

FG_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

FG_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

FG_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

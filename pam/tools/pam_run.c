/* Test and bench driver for pam_facegate: runs a PAM operation N times in one process and prints, per
 * call, the exact PAM return code name and the elapsed milliseconds (pam_start to pam_end,
 * CLOCK_MONOTONIC). Text the module sends (PAM_TEXT_INFO) goes to stderr as "info: TEXT".
 *
 *   fg-pam-run [-c CONFDIR] [-r RHOST] [-t TTY] [-n N] [-o auth|acct|login|setcred|session] [-s] SERVICE USER
 *
 * -s passes PAM_SILENT. "login" authenticates and, on success, runs the account phase in the same handle.
 *
 * With -c the service file is read from CONFDIR through pam_start_confdir (Linux-PAM >= 1.4): no root and
 * no pam_wrapper, whose shared /tmp/pam.X directories race when several tests run at once. Without -c
 * it uses pam_start, e.g. under pam_wrapper. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)data;
	struct pam_response *r = calloc((size_t)n, sizeof *r);
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_TEXT_INFO || msg[i]->msg_style == PAM_ERROR_MSG) {
			fprintf(stderr, "info: %s\n", msg[i]->msg);
		} else {
			free(r); /* this driver answers no prompts */
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static const char *code_name(int c)
{
	static char buf[32];
	switch (c) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_AUTH_ERR:
		return "PAM_AUTH_ERR";
	case PAM_AUTHINFO_UNAVAIL:
		return "PAM_AUTHINFO_UNAVAIL";
	case PAM_IGNORE:
		return "PAM_IGNORE";
	case PAM_PERM_DENIED:
		return "PAM_PERM_DENIED";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	case PAM_CONV_ERR:
		return "PAM_CONV_ERR";
	case PAM_ABORT:
		return "PAM_ABORT";
	default:
		snprintf(buf, sizeof buf, "PAM_%d", c);
		return buf;
	}
}

int main(int argc, char **argv)
{
	const char *confdir = NULL, *rhost = NULL, *tty = NULL, *op = "auth";
	int n = 1, opt, flags = 0;
	while ((opt = getopt(argc, argv, "c:r:t:n:o:s")) != -1) {
		switch (opt) {
		case 'c':
			confdir = optarg;
			break;
		case 'r':
			rhost = optarg;
			break;
		case 't':
			tty = optarg;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'o':
			op = optarg;
			break;
		case 's':
			flags = PAM_SILENT;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	struct pam_conv c = { conv, NULL };
	for (int i = 0; i < n; i++) {
		pam_handle_t *pamh = NULL;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int r = confdir ? pam_start_confdir(argv[optind], argv[optind + 1], &c, confdir, &pamh)
				: pam_start(argv[optind], argv[optind + 1], &c, &pamh);
		if (r == PAM_SUCCESS && rhost)
			r = pam_set_item(pamh, PAM_RHOST, rhost);
		if (r == PAM_SUCCESS && tty)
			r = pam_set_item(pamh, PAM_TTY, tty);
		if (r == PAM_SUCCESS) {
			if (strcmp(op, "auth") == 0)
				r = pam_authenticate(pamh, flags);
			else if (strcmp(op, "acct") == 0)
				r = pam_acct_mgmt(pamh, flags);
			else if (strcmp(op, "login") == 0) {
				/* What sudo and login do: the account phase only after a successful authentication. */
				r = pam_authenticate(pamh, flags);
				if (r == PAM_SUCCESS)
					r = pam_acct_mgmt(pamh, flags);
			} else if (strcmp(op, "setcred") == 0)
				r = pam_setcred(pamh, flags | PAM_ESTABLISH_CRED);
			else if (strcmp(op, "session") == 0)
				r = pam_open_session(pamh, flags);
			else
				goto usage;
		}
		if (pamh != NULL)
			pam_end(pamh, r);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %.3f\n", code_name(r),
		       (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
		fflush(stdout);
	}
	return 0;
usage:
	fprintf(stderr,
		"usage: %s [-c CONFDIR] [-r RHOST] [-t TTY] [-n N] [-o auth|acct|login|setcred|session] [-s] SERVICE "
		"USER\n",
		argv[0]);
	return 2;
}

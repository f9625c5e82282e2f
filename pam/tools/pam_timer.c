/* Bench/test driver: runs pam_authenticate N times in one process and prints, per call, the PAM return
 * code name and the elapsed milliseconds on CLOCK_MONOTONIC. Use under pam_wrapper (no root):
 *   LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=DIR fg-pam-timer SERVICE USER N [RHOST]
 * Text from the module (PAM_TEXT_INFO) goes to stderr prefixed with "info: ". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	switch (c) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	default: return "other";
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s SERVICE USER N [RHOST]\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[3]);
	struct pam_conv c = { conv, NULL };
	for (int i = 0; i < n; i++) {
		pam_handle_t *pamh = NULL;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int r = pam_start(argv[1], argv[2], &c, &pamh);
		if (r == PAM_SUCCESS && argc > 4)
			r = pam_set_item(pamh, PAM_RHOST, argv[4]);
		if (r == PAM_SUCCESS)
			r = pam_authenticate(pamh, 0);
		pam_end(pamh, r);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %.3f\n", code_name(r), (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
		fflush(stdout);
	}
	return 0;
}

/* Test tool: each stdin line is a frame in hex; prints one line per frame: the protocol error name, or
 * "ok" and the decoded message, in a format test/pam-protocol-parity.test.ts compares with the TS codec.
 * With "-e" each line is instead "user<TAB>service<TAB>tty<TAB>rhost<TAB>deadline" in hex per field, and
 * the tool prints the encoded request frame in hex, or the error name; "-r" does the same for
 * "user<TAB>service" and the reset frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t unhex(const char *s, size_t n, unsigned char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i + 1 < n && k < cap; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "bad hex\n");
			exit(2);
		}
		out[k++] = (unsigned char)(hi << 4 | lo);
	}
	return k;
}

static void print_slice(const char *key, struct fg_slice s)
{
	printf(" %s=", key);
	for (size_t i = 0; i < s.n; i++)
		printf("%02x", (unsigned char)s.p[i]);
}

static void decode_line(const char *line, size_t n)
{
	static unsigned char buf[1 << 17];
	size_t len = unhex(line, n, buf, sizeof buf);
	struct fg_msg m;
	enum fg_err e = fg_parse_frame(buf, len, &m);
	if (e != FG_OK) {
		printf("%s\n", fg_err_name(e));
		return;
	}
	switch (m.type) {
	case FG_MSG_REQUEST:
		printf("ok request");
		print_slice("user", m.user);
		print_slice("service", m.service);
		print_slice("tty", m.tty);
		print_slice("rhost", m.rhost);
		printf(" deadline_ms=%u\n", m.deadline_ms);
		break;
	case FG_MSG_RESET:
		printf("ok reset");
		print_slice("user", m.user);
		print_slice("service", m.service);
		printf("\n");
		break;
	case FG_MSG_EVENT:
		printf("ok event %s\n", fg_event_name(m.event));
		break;
	case FG_MSG_ANSWER:
		printf("ok answer %s %s\n", fg_result_name(m.result), fg_reason_name(m.reason));
		break;
	}
}

/* "-r": user<TAB>service in hex -> the reset frame in hex, or the error name. */
static void encode_reset_line(char *line)
{
	static unsigned char vals[2][4096];
	for (int i = 0; i < 2; i++) {
		char *f = strsep(&line, "\t");
		if (f == NULL) {
			fprintf(stderr, "need 2 fields\n");
			exit(2);
		}
		size_t k = unhex(f, strlen(f), vals[i], sizeof vals[i] - 1);
		vals[i][k] = '\0';
	}
	struct fg_reset r = { (char *)vals[0], (char *)vals[1] };
	unsigned char out[FG_MAX_FRAME];
	size_t len = 0;
	enum fg_err e = fg_encode_reset(&r, out, sizeof out, &len);
	if (e != FG_OK) {
		printf("%s\n", fg_err_name(e));
		return;
	}
	for (size_t i = 0; i < len; i++)
		printf("%02x", out[i]);
	printf("\n");
}

static void encode_line(char *line)
{
	char *fields[5];
	static unsigned char vals[5][4096];
	for (int i = 0; i < 5; i++) {
		fields[i] = strsep(&line, "\t");
		if (fields[i] == NULL) {
			fprintf(stderr, "need 5 fields\n");
			exit(2);
		}
		size_t k = unhex(fields[i], strlen(fields[i]), vals[i], sizeof vals[i] - 1);
		vals[i][k] = '\0';
	}
	struct fg_request r = { (char *)vals[0], (char *)vals[1], (char *)vals[2], (char *)vals[3],
				(unsigned)strtoul((char *)vals[4], NULL, 10) };
	unsigned char out[FG_MAX_FRAME];
	size_t len = 0;
	enum fg_err e = fg_encode_request(&r, out, sizeof out, &len);
	if (e != FG_OK) {
		printf("%s\n", fg_err_name(e));
		return;
	}
	for (size_t i = 0; i < len; i++)
		printf("%02x", out[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	int encode = argc > 1 && strcmp(argv[1], "-e") == 0;
	int reset = argc > 1 && strcmp(argv[1], "-r") == 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (encode)
			encode_line(line);
		else if (reset)
			encode_reset_line(line);
		else
			decode_line(line, (size_t)n);
	}
	free(line);
	return 0;
}

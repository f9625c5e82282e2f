/* Test tool: each stdin line is "rhost_hex<TAB>session<TAB>greeter(0|1)"; prints the locality fg_classify
 * gives, one line each, for test/policy-parity.test.ts to compare with src/policy/locality.ts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		char *rest = line;
		char *hex = strsep(&rest, "\t"), *sess = strsep(&rest, "\t"), *greeter = strsep(&rest, "\t");
		if (hex == NULL || sess == NULL || greeter == NULL || strlen(hex) % 2 != 0) {
			fprintf(stderr, "bad line\n");
			return 2;
		}
		size_t hn = strlen(hex) / 2;
		char *rhost = malloc(hn + 1);
		if (rhost == NULL)
			return 2;
		for (size_t i = 0; i < hn; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				fprintf(stderr, "bad hex\n");
				return 2;
			}
			rhost[i] = (char)(hi << 4 | lo);
		}
		rhost[hn] = '\0';
		int s = -1;
		for (int i = 0; i < FG_SESSION_COUNT; i++)
			if (strcmp(sess, fg_session_name((enum fg_session)i)) == 0)
				s = i;
		if (s < 0) {
			fprintf(stderr, "bad session %s\n", sess);
			return 2;
		}
		/* A NUL inside rhost cannot come from PAM; the C string ends there, as the module would see it. */
		printf("%s\n", fg_locality_name(fg_classify(rhost, (enum fg_session)s, strcmp(greeter, "1") == 0)));
		free(rhost);
	}
	free(line);
	return 0;
}

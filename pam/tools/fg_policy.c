/* Test tool for test/policy.test.ts, which compares each answer with src/policy/locality.ts. Each stdin line
 * is one question, tab-separated; one answer line each:
 *   classify <rhost_hex> <session> <greeter 0|1> <user>   -> locality (fg_classify)
 *   kind <remote> <remote_host> <seat> <active> (0|1 each) <type> -> session kind (fg_session_kind)
 *   summary <kind,kind,...> (may be empty)                 -> user state (fg_user_summary)
 *   lookup <uid>                                            -> "<own session> <user state>" from logind */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logind.h"
#include "policy.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Index of name among count names given by name_of, or -1. */
static int lookup_name(const char *name, int count, const char *(*name_of)(int))
{
	for (int i = 0; i < count; i++)
		if (strcmp(name, name_of(i)) == 0)
			return i;
	return -1;
}

static const char *session_at(int i)
{
	return fg_session_name((enum fg_session)i);
}
static const char *user_at(int i)
{
	return fg_user_name((enum fg_user)i);
}
static const char *kind_at(int i)
{
	return fg_kind_name((enum fg_kind)i);
}

static int classify(char *rest)
{
	char *hex = strsep(&rest, "\t"), *sess = strsep(&rest, "\t"), *greeter = strsep(&rest, "\t"),
	     *user = strsep(&rest, "\t");
	if (hex == NULL || sess == NULL || greeter == NULL || user == NULL || strlen(hex) % 2 != 0)
		return -1;
	size_t hn = strlen(hex) / 2;
	char *rhost = malloc(hn + 1);
	if (rhost == NULL)
		return -1;
	for (size_t i = 0; i < hn; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(rhost);
			return -1;
		}
		rhost[i] = (char)(hi << 4 | lo);
	}
	rhost[hn] = '\0';
	int s = lookup_name(sess, FG_SESSION_COUNT, session_at), u = lookup_name(user, FG_USER_COUNT, user_at);
	if (s < 0 || u < 0) {
		free(rhost);
		return -1;
	}
	/* A NUL inside rhost cannot come from PAM; the C string ends there, as the module would see it. */
	printf("%s\n",
	       fg_locality_name(fg_classify(rhost, (enum fg_session)s, strcmp(greeter, "1") == 0, (enum fg_user)u)));
	free(rhost);
	return 0;
}

static int kind(char *rest)
{
	char *f[5];
	for (int i = 0; i < 5; i++)
		if ((f[i] = strsep(&rest, "\t")) == NULL)
			return -1;
	struct fg_session_facts facts = { .remote = strcmp(f[0], "1") == 0,
					  .remote_host = strcmp(f[1], "1") == 0,
					  .seat = strcmp(f[2], "1") == 0,
					  .active = strcmp(f[3], "1") == 0,
					  .type = f[4] };
	printf("%s\n", fg_kind_name(fg_session_kind(&facts)));
	return 0;
}

static int summary(char *rest)
{
	enum fg_kind kinds[64];
	size_t n = 0;
	char *k;
	while (rest != NULL && rest[0] != '\0' && (k = strsep(&rest, ",")) != NULL) {
		int i = lookup_name(k, FG_KIND_COUNT, kind_at);
		if (i < 0 || n == sizeof kinds / sizeof kinds[0])
			return -1;
		kinds[n++] = (enum fg_kind)i;
	}
	printf("%s\n", fg_user_name(fg_user_summary(kinds, n)));
	return 0;
}

static int lookup(char *rest)
{
	char *end;
	unsigned long uid = strtoul(rest, &end, 10);
	if (rest[0] == '\0' || *end != '\0')
		return -1;
	printf("%s %s\n", fg_session_name(fg_own_session()), fg_user_name(fg_user_sessions((uid_t)uid)));
	return 0;
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
		char *op = strsep(&rest, "\t");
		int r = -1;
		if (rest != NULL && strcmp(op, "classify") == 0)
			r = classify(rest);
		else if (rest != NULL && strcmp(op, "kind") == 0)
			r = kind(rest);
		else if (strcmp(op, "summary") == 0)
			r = summary(rest);
		else if (rest != NULL && strcmp(op, "lookup") == 0)
			r = lookup(rest);
		if (r < 0) {
			fprintf(stderr, "bad line: %s\n", line);
			free(line);
			return 2;
		}
		fflush(stdout);
	}
	free(line);
	return 0;
}

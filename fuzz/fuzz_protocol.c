/* libFuzzer target for the C protocol codec (pam/protocol.c).
 * Input: byte 0 selects a mode, the rest is data.
 *   even: a stream of frames parsed the way pam_facegate.c reads them (header prefix check, header,
 *         payload), plus fg_parse_frame on the whole buffer. Parsed messages are checked for invariants.
 *   odd:  the data is split at NULs into request fields (reset fields when bit 1 is set too); whatever
 *         fg_encode_request / fg_encode_reset accepts must parse back to the same fields. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../pam/protocol.h"

static void check_slice(const struct fg_slice *s, const unsigned char *p, size_t n, size_t min, size_t max)
{
	/* inside the payload, no control bytes, length in range */
	if (s->n > 0 && ((const unsigned char *)s->p < p || (const unsigned char *)s->p + s->n > p + n))
		abort();
	for (size_t k = 0; k < s->n; k++)
		if ((unsigned char)s->p[k] < 0x20 || s->p[k] == 0x7f)
			abort();
	if (s->n < min || s->n > max)
		abort();
}

static void check_msg(const struct fg_msg *m, const unsigned char *p, size_t n)
{
	switch (m->type) {
	case FG_MSG_RESET:
		check_slice(&m->user, p, n, 1, 256);
		check_slice(&m->service, p, n, 1, 256);
		break;
	case FG_MSG_REQUEST: {
		const struct fg_slice *s[] = { &m->user, &m->service, &m->tty, &m->rhost };
		for (int i = 0; i < 4; i++) {
			/* slices point inside the payload and hold no control bytes */
			if (s[i]->n > 0 && ((const unsigned char *)s[i]->p < p ||
					    (const unsigned char *)s[i]->p + s[i]->n > p + n))
				abort();
			for (size_t k = 0; k < s[i]->n; k++)
				if ((unsigned char)s[i]->p[k] < 0x20 || s[i]->p[k] == 0x7f)
					abort();
		}
		if (m->user.n == 0 || m->user.n > 256 || m->deadline_ms < 1 || m->deadline_ms > FG_MAX_DEADLINE_MS)
			abort();
		break;
	}
	case FG_MSG_EVENT:
		if ((unsigned)m->event >= FG_EV_COUNT)
			abort();
		break;
	case FG_MSG_ANSWER:
		if ((unsigned)m->result >= FG_RESULT_COUNT || (unsigned)m->reason >= FG_REASON_COUNT)
			abort();
		/* the invariant the PAM module relies on: allow only ever with match; ok only with reset */
		if ((m->result == FG_RESULT_ALLOW) != (m->reason == FG_REASON_MATCH))
			abort();
		if ((m->result == FG_RESULT_OK) != (m->reason == FG_REASON_RESET))
			abort();
		if (m->reason == FG_REASON_LOCKED_OUT && m->result != FG_RESULT_UNAVAILABLE)
			abort();
		break;
	default:
		abort();
	}
}

static void parse_stream(const unsigned char *d, size_t n)
{
	size_t pos = 0;
	while (pos < n) {
		size_t avail = n - pos, len = 0;
		if (avail < FG_HEADER_SIZE) {
			(void)fg_check_header_prefix(d + pos, avail);
			return;
		}
		if (fg_parse_header(d + pos, &len) != FG_OK)
			return;
		if (len < 1 || len > FG_MAX_PAYLOAD)
			abort();
		if (avail - FG_HEADER_SIZE < len)
			return;
		/* Copy so ASan catches any read past the payload. */
		unsigned char *p = malloc(len);
		memcpy(p, d + pos + FG_HEADER_SIZE, len);
		struct fg_msg m;
		if (fg_parse_payload(p, len, &m) == FG_OK)
			check_msg(&m, p, len);
		free(p);
		pos += FG_HEADER_SIZE + len;
	}
}

static void encode_reset_roundtrip(const unsigned char *d, size_t n)
{
	char *copy = malloc(n + 1);
	memcpy(copy, d, n);
	copy[n] = '\0';
	const char *user = copy, *service = copy + strlen(copy) < copy + n ? copy + strlen(copy) + 1 : "";
	struct fg_reset r = { user, service };
	unsigned char out[FG_MAX_FRAME];
	size_t len = 0;
	if (fg_encode_reset(&r, out, sizeof out, &len) == FG_OK) {
		struct fg_msg m;
		if (fg_parse_frame(out, len, &m) != FG_OK || m.type != FG_MSG_RESET)
			abort();
		check_msg(&m, out + FG_HEADER_SIZE, len - FG_HEADER_SIZE);
		if (m.user.n != strlen(user) || memcmp(m.user.p, user, m.user.n) != 0 || m.service.n != strlen(service) ||
		    memcmp(m.service.p, service, m.service.n) != 0)
			abort();
	}
	free(copy);
}

static void encode_roundtrip(const unsigned char *d, size_t n)
{
	char *copy = malloc(n + 1);
	memcpy(copy, d, n);
	copy[n] = '\0';
	const char *f[5] = { "", "", "", "", "" };
	char *s = copy;
	for (int i = 0; i < 5 && s <= copy + n; i++) {
		f[i] = s;
		s += strlen(s) + 1;
	}
	unsigned deadline = 0;
	for (const char *c = f[4]; *c && deadline < 10000000; c++)
		deadline = deadline * 10 + (unsigned)(*c & 0x0f);
	struct fg_request r = { f[0], f[1], f[2], f[3], deadline };
	unsigned char out[FG_MAX_FRAME];
	size_t len = 0;
	if (fg_encode_request(&r, out, sizeof out, &len) == FG_OK) {
		struct fg_msg m;
		if (fg_parse_frame(out, len, &m) != FG_OK || m.type != FG_MSG_REQUEST)
			abort();
		check_msg(&m, out + FG_HEADER_SIZE, len - FG_HEADER_SIZE);
		if (m.user.n != strlen(r.user) || memcmp(m.user.p, r.user, m.user.n) != 0 ||
		    m.rhost.n != strlen(r.rhost) || memcmp(m.rhost.p, r.rhost, m.rhost.n) != 0 ||
		    m.deadline_ms != deadline)
			abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (data[0] & 2)
			encode_reset_roundtrip(data + 1, size - 1);
		else
			encode_roundtrip(data + 1, size - 1);
		return 0;
	}
	parse_stream(data + 1, size - 1);
	/* The whole buffer as exactly one frame, in its own allocation. */
	unsigned char *f = malloc(size - 1 ? size - 1 : 1);
	memcpy(f, data + 1, size - 1);
	struct fg_msg m;
	if (fg_parse_frame(f, size - 1, &m) == FG_OK)
		check_msg(&m, f + FG_HEADER_SIZE, size - 1 - FG_HEADER_SIZE);
	free(f);
	return 0;
}

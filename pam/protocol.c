/* facegate wire protocol v1: strict frame and key=value payload codec (see docs/protocol.md). */
#include "protocol.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MAX_KEY   32
#define MAX_VALUE 1024

static const char *const err_names[] = {
	"ok",        "bad-magic",       "bad-version",   "bad-length",      "oversized",
	"truncated", "trailing-data",   "bad-utf8",      "embedded-nul",    "bad-syntax",
	"bad-key",   "unknown-type",    "unknown-field", "duplicate-field", "missing-field",
	"bad-value", "unexpected-type",
};
static const char *const event_names[FG_EV_COUNT] = {
	"queued", "looking", "no-face", "too-dark", "too-far", "blurry", "retry",
};
static const char *const result_names[FG_RESULT_COUNT] = { "allow", "deny", "unavailable", "ok" };
static const char *const reason_names[FG_REASON_COUNT] = {
	"match",          "no-match",      "not-live",   "no-templates", "disabled", "remote-session",
	"not-permitted",  "bad-request",   "busy",       "camera-error", "no-face",  "model-mismatch",
	"internal-error", "shutting-down", "locked-out", "reset",
};

const char *fg_err_name(enum fg_err e)
{
	return (unsigned)e < sizeof err_names / sizeof *err_names ? err_names[e] : "?";
}
const char *fg_event_name(enum fg_event e)
{
	return (unsigned)e < FG_EV_COUNT ? event_names[e] : "?";
}
const char *fg_result_name(enum fg_result r)
{
	return (unsigned)r < FG_RESULT_COUNT ? result_names[r] : "?";
}
const char *fg_reason_name(enum fg_reason r)
{
	return (unsigned)r < FG_REASON_COUNT ? reason_names[r] : "?";
}

static enum fg_result result_of_reason(enum fg_reason r)
{
	if (r == FG_REASON_MATCH)
		return FG_RESULT_ALLOW;
	if (r == FG_REASON_NO_MATCH || r == FG_REASON_NOT_LIVE)
		return FG_RESULT_DENY;
	if (r == FG_REASON_RESET)
		return FG_RESULT_OK;
	return FG_RESULT_UNAVAILABLE;
}

enum fg_err fg_check_header_prefix(const unsigned char *hdr, size_t n)
{
	static const unsigned char magic[3] = { 'F', 'G', 'T' };
	for (size_t i = 0; i < n && i < 3; i++)
		if (hdr[i] != magic[i])
			return FG_ERR_BAD_MAGIC;
	if (n > 3 && hdr[3] != FG_VERSION)
		return FG_ERR_BAD_VERSION;
	return FG_OK;
}

enum fg_err fg_parse_header(const unsigned char *hdr, size_t *payload_len)
{
	enum fg_err e = fg_check_header_prefix(hdr, FG_HEADER_SIZE);
	if (e != FG_OK)
		return e;
	uint32_t len = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
	if (len == 0)
		return FG_ERR_BAD_LENGTH;
	if (len > FG_MAX_PAYLOAD)
		return FG_ERR_OVERSIZED;
	*payload_len = len;
	return FG_OK;
}

/* Strict UTF-8 as WHATWG's fatal decoder: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i], len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
			return false;
		if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
			return false;
		i += len;
	}
	return true;
}

static bool is_key(const unsigned char *k, size_t n)
{
	if (n < 1 || n > MAX_KEY || !(k[0] >= 'a' && k[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return false;
	return true;
}

static bool has_control(const unsigned char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return true;
	return false;
}

static bool slice_is(const struct fg_slice *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->n == n && memcmp(s->p, lit, n) == 0;
}

static bool lookup(const struct fg_slice *s, const char *const *names, int count, int *idx)
{
	for (int i = 0; i < count; i++)
		if (slice_is(s, names[i])) {
			*idx = i;
			return true;
		}
	return false;
}

struct field_spec {
	const char *key;
	size_t max;
	bool empty_ok;
};

#define MAX_FIELDS 5
static const struct field_spec request_fields[] = {
	{ "user", 256, false },  { "service", 256, false },   { "tty", 256, true },
	{ "rhost", 1024, true }, { "deadline_ms", 6, false }, { NULL, 0, false },
};
static const struct field_spec reset_fields[] = {
	{ "user", 256, false },
	{ "service", 256, false },
	{ NULL, 0, false },
};
static const struct field_spec event_fields[] = { { "event", MAX_VALUE, false }, { NULL, 0, false } };
static const struct field_spec answer_fields[] = {
	{ "result", MAX_VALUE, false },
	{ "reason", MAX_VALUE, false },
	{ NULL, 0, false },
};

static bool parse_deadline(const struct fg_slice *s, unsigned *out)
{
	if (s->n < 1 || s->n > 6 || s->p[0] < '1' || s->p[0] > '9')
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->p[i] < '0' || s->p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s->p[i] - '0');
	}
	if (v > FG_MAX_DEADLINE_MS)
		return false;
	*out = v;
	return true;
}

enum fg_err fg_parse_payload(const unsigned char *p, size_t n, struct fg_msg *out)
{
	if (n == 0)
		return FG_ERR_BAD_LENGTH;
	if (n > FG_MAX_PAYLOAD)
		return FG_ERR_OVERSIZED;
	if (memchr(p, 0, n) != NULL)
		return FG_ERR_EMBEDDED_NUL;
	if (!utf8_valid(p, n))
		return FG_ERR_BAD_UTF8;
	if (p[n - 1] != '\n')
		return FG_ERR_BAD_SYNTAX;

	const struct field_spec *spec = NULL;
	struct fg_slice vals[MAX_FIELDS] = { { NULL, 0 } }; /* every field of the type is checked as seen below */
	bool seen[MAX_FIELDS] = { false };
	struct fg_msg m;
	memset(&m, 0, sizeof m);

	size_t pos = 0;
	for (unsigned line = 0; pos < n; line++) {
		const unsigned char *l = p + pos;
		const unsigned char *nl = memchr(l, '\n', n - pos); /* exists: payload ends with \n */
		size_t len = (size_t)(nl - l);
		pos += len + 1;
		if (len == 0)
			return FG_ERR_BAD_SYNTAX;
		const unsigned char *eq = memchr(l, '=', len);
		if (eq == NULL)
			return FG_ERR_BAD_SYNTAX;
		size_t klen = (size_t)(eq - l);
		struct fg_slice v = { (const char *)eq + 1, len - klen - 1 };
		if (!is_key(l, klen))
			return FG_ERR_BAD_KEY;
		if (has_control((const unsigned char *)v.p, v.n))
			return FG_ERR_BAD_SYNTAX;
		if (line == 0) {
			if (!(klen == 4 && memcmp(l, "type", 4) == 0))
				return FG_ERR_UNKNOWN_TYPE;
			if (slice_is(&v, "request")) {
				m.type = FG_MSG_REQUEST;
				spec = request_fields;
			} else if (slice_is(&v, "reset")) {
				m.type = FG_MSG_RESET;
				spec = reset_fields;
			} else if (slice_is(&v, "event")) {
				m.type = FG_MSG_EVENT;
				spec = event_fields;
			} else if (slice_is(&v, "answer")) {
				m.type = FG_MSG_ANSWER;
				spec = answer_fields;
			} else {
				return FG_ERR_UNKNOWN_TYPE;
			}
			continue;
		}
		int f = -1;
		for (int i = 0; spec[i].key != NULL; i++)
			if (strlen(spec[i].key) == klen && memcmp(spec[i].key, l, klen) == 0)
				f = i;
		if (f < 0)
			return FG_ERR_UNKNOWN_FIELD;
		if (seen[f])
			return FG_ERR_DUPLICATE_FIELD;
		if (v.n > spec[f].max || (v.n == 0 && !spec[f].empty_ok))
			return FG_ERR_BAD_VALUE;
		seen[f] = true;
		vals[f] = v;
	}
	for (int i = 0; spec[i].key != NULL; i++)
		if (!seen[i])
			return FG_ERR_MISSING_FIELD;

	int idx;
	switch (m.type) {
	case FG_MSG_REQUEST:
		m.user = vals[0];
		m.service = vals[1];
		m.tty = vals[2];
		m.rhost = vals[3];
		if (!parse_deadline(&vals[4], &m.deadline_ms))
			return FG_ERR_BAD_VALUE;
		break;
	case FG_MSG_RESET:
		m.user = vals[0];
		m.service = vals[1];
		break;
	case FG_MSG_EVENT:
		if (!lookup(&vals[0], event_names, FG_EV_COUNT, &idx))
			return FG_ERR_BAD_VALUE;
		m.event = (enum fg_event)idx;
		break;
	case FG_MSG_ANSWER:
		if (!lookup(&vals[0], result_names, FG_RESULT_COUNT, &idx))
			return FG_ERR_BAD_VALUE;
		m.result = (enum fg_result)idx;
		if (!lookup(&vals[1], reason_names, FG_REASON_COUNT, &idx))
			return FG_ERR_BAD_VALUE;
		m.reason = (enum fg_reason)idx;
		if (result_of_reason(m.reason) != m.result)
			return FG_ERR_BAD_VALUE;
		break;
	}
	*out = m;
	return FG_OK;
}

enum fg_err fg_parse_frame(const unsigned char *f, size_t n, struct fg_msg *out)
{
	size_t len;
	if (n < FG_HEADER_SIZE) {
		enum fg_err e = fg_check_header_prefix(f, n);
		return e != FG_OK ? e : FG_ERR_TRUNCATED;
	}
	enum fg_err e = fg_parse_header(f, &len);
	if (e != FG_OK)
		return e;
	if (n - FG_HEADER_SIZE < len)
		return FG_ERR_TRUNCATED;
	if (n - FG_HEADER_SIZE > len)
		return FG_ERR_TRAILING_DATA;
	return fg_parse_payload(f + FG_HEADER_SIZE, len, out);
}

/* Appends "key=value\n" after checking value as the decoder will. */
static enum fg_err put_field(unsigned char *buf, size_t cap, size_t *pos, const char *key, const char *val, size_t max,
			     bool empty_ok)
{
	size_t kn = strlen(key), vn = strnlen(val, max + 1);
	if (vn > max || (vn == 0 && !empty_ok))
		return FG_ERR_BAD_VALUE;
	if (has_control((const unsigned char *)val, vn))
		return FG_ERR_BAD_SYNTAX;
	if (!utf8_valid((const unsigned char *)val, vn))
		return FG_ERR_BAD_UTF8;
	if (cap - *pos < kn + vn + 2)
		return FG_ERR_OVERSIZED;
	memcpy(buf + *pos, key, kn);
	buf[*pos + kn] = '=';
	memcpy(buf + *pos + kn + 1, val, vn);
	buf[*pos + kn + 1 + vn] = '\n';
	*pos += kn + vn + 2;
	return FG_OK;
}

/* Fills the 8-byte header for a payload that ends at pos; returns the frame size. */
static size_t put_header(unsigned char *buf, size_t pos)
{
	uint32_t plen = (uint32_t)(pos - FG_HEADER_SIZE);
	buf[0] = 'F';
	buf[1] = 'G';
	buf[2] = 'T';
	buf[3] = FG_VERSION;
	buf[4] = (unsigned char)(plen >> 24);
	buf[5] = (unsigned char)(plen >> 16);
	buf[6] = (unsigned char)(plen >> 8);
	buf[7] = (unsigned char)plen;
	return pos;
}

enum fg_err fg_encode_request(const struct fg_request *r, unsigned char *buf, size_t cap, size_t *len)
{
	char deadline[12];
	size_t pos = FG_HEADER_SIZE;
	enum fg_err e;

	if (cap < FG_HEADER_SIZE)
		return FG_ERR_OVERSIZED;
	if (cap > FG_MAX_FRAME)
		cap = FG_MAX_FRAME;
	if (r->deadline_ms < 1 || r->deadline_ms > FG_MAX_DEADLINE_MS)
		return FG_ERR_BAD_VALUE;
	/* snprintf is avoided to keep the output exactly what the decoder expects: no sign, no padding. */
	unsigned d = r->deadline_ms;
	size_t dn = 0;
	char rev[12];
	while (d > 0) {
		rev[dn++] = (char)('0' + d % 10);
		d /= 10;
	}
	for (size_t i = 0; i < dn; i++)
		deadline[i] = rev[dn - 1 - i];
	deadline[dn] = '\0';

	if (r->user == NULL || r->service == NULL || r->tty == NULL || r->rhost == NULL)
		return FG_ERR_MISSING_FIELD;
	if ((e = put_field(buf, cap, &pos, "type", "request", 16, false)) != FG_OK ||
	    (e = put_field(buf, cap, &pos, "user", r->user, 256, false)) != FG_OK ||
	    (e = put_field(buf, cap, &pos, "service", r->service, 256, false)) != FG_OK ||
	    (e = put_field(buf, cap, &pos, "tty", r->tty, 256, true)) != FG_OK ||
	    (e = put_field(buf, cap, &pos, "rhost", r->rhost, 1024, true)) != FG_OK ||
	    (e = put_field(buf, cap, &pos, "deadline_ms", deadline, 6, false)) != FG_OK)
		return e;

	*len = put_header(buf, pos);
	return FG_OK;
}

enum fg_err fg_encode_reset(const struct fg_reset *r, unsigned char *buf, size_t cap, size_t *len)
{
	size_t pos = FG_HEADER_SIZE;
	enum fg_err e;

	if (cap < FG_HEADER_SIZE)
		return FG_ERR_OVERSIZED;
	if (cap > FG_MAX_FRAME)
		cap = FG_MAX_FRAME;
	if (r->user == NULL || r->service == NULL)
		return FG_ERR_MISSING_FIELD;
	if ((e = put_field(buf, cap, &pos, "type", "reset", 16, false)) != FG_OK ||
	    (e = put_field(buf, cap, &pos, "user", r->user, 256, false)) != FG_OK ||
	    (e = put_field(buf, cap, &pos, "service", r->service, 256, false)) != FG_OK)
		return e;
	*len = put_header(buf, pos);
	return FG_OK;
}

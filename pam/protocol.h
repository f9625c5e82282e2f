/* facegate wire protocol v1, C side. docs/protocol.md is the specification; src/protocol/ is the
 * TypeScript twin and must agree byte for byte (test/pam-protocol-parity.test.ts checks it).
 * Nothing here allocates: parsed strings are slices into the caller's buffer. */
#ifndef FACEGATE_PROTOCOL_H
#define FACEGATE_PROTOCOL_H

#include <stddef.h>

#define FG_VERSION         1
#define FG_HEADER_SIZE     8
#define FG_MAX_PAYLOAD     4096
#define FG_MAX_FRAME       (FG_HEADER_SIZE + FG_MAX_PAYLOAD)
#define FG_MAX_DEADLINE_MS 600000u

/* Same names, same order of checks as ProtocolErrorCode in src/protocol/errors.ts. */
enum fg_err {
	FG_OK = 0,
	FG_ERR_BAD_MAGIC,
	FG_ERR_BAD_VERSION,
	FG_ERR_BAD_LENGTH,
	FG_ERR_OVERSIZED,
	FG_ERR_TRUNCATED,
	FG_ERR_TRAILING_DATA,
	FG_ERR_BAD_UTF8,
	FG_ERR_EMBEDDED_NUL,
	FG_ERR_BAD_SYNTAX,
	FG_ERR_BAD_KEY,
	FG_ERR_UNKNOWN_TYPE,
	FG_ERR_UNKNOWN_FIELD,
	FG_ERR_DUPLICATE_FIELD,
	FG_ERR_MISSING_FIELD,
	FG_ERR_BAD_VALUE,
	FG_ERR_UNEXPECTED_TYPE,
};

enum fg_msg_type { FG_MSG_REQUEST, FG_MSG_EVENT, FG_MSG_ANSWER, FG_MSG_RESET };

enum fg_event {
	FG_EV_QUEUED,
	FG_EV_LOOKING,
	FG_EV_NO_FACE,
	FG_EV_TOO_DARK,
	FG_EV_TOO_FAR,
	FG_EV_BLURRY,
	FG_EV_RETRY,
	FG_EV_COUNT
};

/* FG_RESULT_OK only answers a reset, never an authentication request. */
enum fg_result { FG_RESULT_ALLOW, FG_RESULT_DENY, FG_RESULT_UNAVAILABLE, FG_RESULT_OK, FG_RESULT_COUNT };

enum fg_reason {
	FG_REASON_MATCH, /* allow */
	FG_REASON_NO_MATCH, /* deny */
	FG_REASON_NOT_LIVE,
	FG_REASON_NO_TEMPLATES, /* unavailable */
	FG_REASON_DISABLED,
	FG_REASON_REMOTE_SESSION,
	FG_REASON_NOT_PERMITTED,
	FG_REASON_BAD_REQUEST,
	FG_REASON_BUSY,
	FG_REASON_CAMERA_ERROR,
	FG_REASON_NO_FACE,
	FG_REASON_MODEL_MISMATCH,
	FG_REASON_INTERNAL_ERROR,
	FG_REASON_SHUTTING_DOWN,
	FG_REASON_LOCKED_OUT,
	FG_REASON_RESET, /* ok */
	FG_REASON_COUNT
};

struct fg_slice {
	const char *p; /* not NUL-terminated; points into the parsed payload */
	size_t n;
};

struct fg_msg {
	enum fg_msg_type type;
	/* FG_MSG_REQUEST; FG_MSG_RESET has user and service only */
	struct fg_slice user, service, tty, rhost;
	unsigned deadline_ms;
	/* FG_MSG_EVENT */
	enum fg_event event;
	/* FG_MSG_ANSWER: the pair is always one of the table in docs/protocol.md */
	enum fg_result result;
	enum fg_reason reason;
};

struct fg_request {
	const char *user, *service, *tty, *rhost; /* NUL-terminated; tty and rhost may be "" */
	unsigned deadline_ms;
};

struct fg_reset {
	const char *user, *service; /* NUL-terminated */
};

const char *fg_err_name(enum fg_err e);
const char *fg_event_name(enum fg_event e);
const char *fg_result_name(enum fg_result r);
const char *fg_reason_name(enum fg_reason r);

/* Checks an 8-byte header; on success stores the payload length (1..FG_MAX_PAYLOAD). */
enum fg_err fg_parse_header(const unsigned char *hdr, size_t *payload_len);

/* Checks only as many header bytes as have arrived (n < 8), so garbage is rejected early. */
enum fg_err fg_check_header_prefix(const unsigned char *hdr, size_t n);

/* Parses one payload. On success *out is a well-formed message whose slices point into p. */
enum fg_err fg_parse_payload(const unsigned char *p, size_t n, struct fg_msg *out);

/* Parses exactly one whole frame (header + payload, nothing after it). */
enum fg_err fg_parse_frame(const unsigned char *f, size_t n, struct fg_msg *out);

/* Writes one request frame into buf (cap >= FG_MAX_FRAME is always enough) and its size into *len.
 * Refuses values the decoders would reject (bad UTF-8, control characters, lengths, deadline). */
enum fg_err fg_encode_request(const struct fg_request *r, unsigned char *buf, size_t cap, size_t *len);

/* Writes one reset frame (clears the user's lockout counter; docs/lockout.md), with the same guarantees. */
enum fg_err fg_encode_reset(const struct fg_reset *r, unsigned char *buf, size_t cap, size_t *len);

#endif

/* The logind lookups behind the local rule (docs/policy.md), through libsystemd's sd-login. Used by the module
 * and by build/fg-policy (which tests them on a fake /run/systemd). Every failure fails closed. */
#ifndef FACEGATE_LOGIND_H
#define FACEGATE_LOGIND_H

#include <sys/types.h>

#include "policy.h"

/* The session of this process (sd_pid_get_session(0)), classified by fg_session_kind. */
enum fg_session fg_own_session(void);

/* The sessions of uid, closing ones included (sd_uid_get_sessions(uid, -1)), summarised by fg_user_summary. */
enum fg_user fg_user_sessions(uid_t uid);

#endif

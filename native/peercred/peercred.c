// getPeerCred(fd) -> { pid, uid, gid } of the process at the other end of a Unix socket, via SO_PEERCRED, and
// userName(uid) -> string | null via getpwuid_r (NSS, so LDAP/sssd users resolve too). Node has no API for
// either, and the daemon authorises every request by the peer's uid.
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value get_peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    return throw_error(env, "EINVAL", "getPeerCred(fd): expected one argument");
  }
  int32_t fd = -1;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    return throw_error(env, "EINVAL", "getPeerCred(fd): fd must be a non-negative integer");
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return throw_error(env, errno == EBADF ? "EBADF" : errno == ENOTSOCK ? "ENOTSOCK" : "EIO", strerror(errno));
  }
  if (len != sizeof cred) return throw_error(env, "EIO", "SO_PEERCRED returned a short structure");
  napi_value out, pid, uid, gid;
  if (napi_create_object(env, &out) != napi_ok ||
      napi_create_int32(env, cred.pid, &pid) != napi_ok ||
      napi_create_uint32(env, cred.uid, &uid) != napi_ok ||
      napi_create_uint32(env, cred.gid, &gid) != napi_ok ||
      napi_set_named_property(env, out, "pid", pid) != napi_ok ||
      napi_set_named_property(env, out, "uid", uid) != napi_ok ||
      napi_set_named_property(env, out, "gid", gid) != napi_ok) {
    return throw_error(env, "EIO", "getPeerCred: cannot build result");
  }
  return out;
}

static napi_value user_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    return throw_error(env, "EINVAL", "userName(uid): expected one argument");
  }
  uint32_t uid = 0;
  if (napi_get_value_uint32(env, argv[0], &uid) != napi_ok) {
    return throw_error(env, "EINVAL", "userName(uid): uid must be a non-negative integer");
  }
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  if (size < 1024) size = 1024;
  for (;;) {
    char *buf = malloc((size_t)size);
    if (buf == NULL) return throw_error(env, "ENOMEM", "userName: out of memory");
    struct passwd pw, *result = NULL;
    int rc = getpwuid_r((uid_t)uid, &pw, buf, (size_t)size, &result);
    if (rc == ERANGE && size < (1L << 20)) {
      free(buf);
      size *= 2;
      continue;
    }
    napi_value out;
    napi_status st;
    if (rc == 0 && result != NULL && result->pw_name != NULL) {
      st = napi_create_string_utf8(env, result->pw_name, NAPI_AUTO_LENGTH, &out);
    } else if (rc == 0 || rc == ENOENT || rc == ESRCH) {
      st = napi_get_null(env, &out);
    } else {
      free(buf);
      return throw_error(env, "EIO", strerror(rc));
    }
    free(buf);
    if (st != napi_ok) return throw_error(env, "EIO", "userName: cannot build result");
    return out;
  }
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "getPeerCred", NAPI_AUTO_LENGTH, get_peer_cred, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "getPeerCred", fn) != napi_ok ||
      napi_create_function(env, "userName", NAPI_AUTO_LENGTH, user_name, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "userName", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

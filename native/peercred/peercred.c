// getPeerCred(fd) -> { pid, uid, gid } of the process at the other end of a Unix socket, via SO_PEERCRED.
// Node has no API for it, and the daemon authorises every request by the peer's uid.
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
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

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "getPeerCred", NAPI_AUTO_LENGTH, get_peer_cred, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "getPeerCred", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

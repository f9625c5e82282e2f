// getPeerCred(fd) -> { pid, uid, gid } of the process at the other end of a Unix socket, via SO_PEERCRED, and
// userName(uid) -> string | null via getpwuid_r (NSS, so LDAP/sssd users resolve too). Node has no API for
// either, and the daemon authorises every request by the peer's uid.
// uidOfName(name) -> number | null (getpwnam_r), and Promise-returning twins userNameAsync(uid) and
// uidOfNameAsync(name) that run the NSS call on the libuv thread pool: a slow LDAP/sssd source must not stall the
// daemon's event loop (issue 7).
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
  if (napi_create_object(env, &out) != napi_ok || napi_create_int32(env, cred.pid, &pid) != napi_ok ||
      napi_create_uint32(env, cred.uid, &uid) != napi_ok || napi_create_uint32(env, cred.gid, &gid) != napi_ok ||
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

// getpwuid_r / getpwnam_r with a growing buffer. Returns 0 and sets *found, or an errno.
static int lookup_pw(int by_name, uint32_t uid, const char *name, char *name_out, size_t name_cap, uint32_t *uid_out,
                     int *found) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  if (size < 1024) size = 1024;
  *found = 0;
  for (;;) {
    char *buf = malloc((size_t)size);
    if (buf == NULL) return ENOMEM;
    struct passwd pw, *result = NULL;
    int rc = by_name ? getpwnam_r(name, &pw, buf, (size_t)size, &result)
                     : getpwuid_r((uid_t)uid, &pw, buf, (size_t)size, &result);
    if (rc == ERANGE && size < (1L << 20)) {
      free(buf);
      size *= 2;
      continue;
    }
    if (rc == 0 && result != NULL && result->pw_name != NULL) {
      size_t n = strlen(result->pw_name);
      if (n >= name_cap) {
        free(buf);
        return ENAMETOOLONG;
      }
      memcpy(name_out, result->pw_name, n + 1);
      *uid_out = (uint32_t)result->pw_uid;
      *found = 1;
      rc = 0;
    } else if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
      rc = 0; // "no such user" is spelt several ways by NSS modules
    }
    free(buf);
    return rc;
  }
}

#define NAME_CAP 256

static int read_name_arg(napi_env env, napi_value v, char *out, size_t cap) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok) return 0;
  if (len == 0 || len >= cap - 1) return 0;
  return 1;
}

static napi_value uid_of_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[NAME_CAP];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      !read_name_arg(env, argv[0], name, sizeof name)) {
    return throw_error(env, "EINVAL", "uidOfName(name): expected a non-empty string");
  }
  char got[NAME_CAP];
  uint32_t uid = 0;
  int found = 0;
  int rc = lookup_pw(1, 0, name, got, sizeof got, &uid, &found);
  if (rc != 0) return throw_error(env, "EIO", strerror(rc));
  napi_value out;
  if ((found ? napi_create_uint32(env, uid, &out) : napi_get_null(env, &out)) != napi_ok)
    return throw_error(env, "EIO", "uidOfName: cannot build result");
  return out;
}

struct lookup_job {
  napi_async_work work;
  napi_deferred deferred;
  int by_name;
  uint32_t uid;
  char name[NAME_CAP];
  char result_name[NAME_CAP];
  uint32_t result_uid;
  int found;
  int rc;
};

static void lookup_execute(napi_env env, void *data) {
  (void)env;
  struct lookup_job *j = data;
  j->rc = lookup_pw(j->by_name, j->uid, j->name, j->result_name, sizeof j->result_name, &j->result_uid, &j->found);
}

static void lookup_complete(napi_env env, napi_status status, void *data) {
  struct lookup_job *j = data;
  napi_value out = NULL;
  if (status != napi_ok || j->rc != 0) {
    napi_value msg, err;
    napi_create_string_utf8(env, status != napi_ok ? "lookup cancelled" : strerror(j->rc), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, j->deferred, err);
  } else {
    napi_status st;
    if (!j->found)
      st = napi_get_null(env, &out);
    else if (j->by_name)
      st = napi_create_uint32(env, j->result_uid, &out);
    else
      st = napi_create_string_utf8(env, j->result_name, NAPI_AUTO_LENGTH, &out);
    if (st == napi_ok)
      napi_resolve_deferred(env, j->deferred, out);
    else {
      napi_value msg, err;
      napi_create_string_utf8(env, "cannot build result", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &err);
      napi_reject_deferred(env, j->deferred, err);
    }
  }
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value start_lookup(napi_env env, struct lookup_job *j) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "facegate-passwd", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, lookup_execute, lookup_complete, j, &j->work) != napi_ok) {
    free(j);
    return throw_error(env, "EIO", "cannot start lookup");
  }
  if (napi_queue_async_work(env, j->work) != napi_ok) {
    napi_delete_async_work(env, j->work);
    free(j);
    return throw_error(env, "EIO", "cannot queue lookup");
  }
  return promise;
}

static napi_value user_name_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t uid = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_uint32(env, argv[0], &uid) != napi_ok) {
    return throw_error(env, "EINVAL", "userNameAsync(uid): uid must be a non-negative integer");
  }
  struct lookup_job *j = calloc(1, sizeof *j);
  if (j == NULL) return throw_error(env, "ENOMEM", "out of memory");
  j->by_name = 0;
  j->uid = uid;
  return start_lookup(env, j);
}

static napi_value uid_of_name_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  struct lookup_job *j = calloc(1, sizeof *j);
  if (j == NULL) return throw_error(env, "ENOMEM", "out of memory");
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      !read_name_arg(env, argv[0], j->name, sizeof j->name)) {
    free(j);
    return throw_error(env, "EINVAL", "uidOfNameAsync(name): expected a non-empty string");
  }
  j->by_name = 1;
  return start_lookup(env, j);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "getPeerCred", NAPI_AUTO_LENGTH, get_peer_cred, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "getPeerCred", fn) != napi_ok ||
      napi_create_function(env, "userName", NAPI_AUTO_LENGTH, user_name, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "userName", fn) != napi_ok ||
      napi_create_function(env, "uidOfName", NAPI_AUTO_LENGTH, uid_of_name, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "uidOfName", fn) != napi_ok ||
      napi_create_function(env, "userNameAsync", NAPI_AUTO_LENGTH, user_name_async, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "userNameAsync", fn) != napi_ok ||
      napi_create_function(env, "uidOfNameAsync", NAPI_AUTO_LENGTH, uid_of_name_async, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "uidOfNameAsync", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

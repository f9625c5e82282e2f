// Small V4L2 capture addon: the ioctls facegate needs, nothing more (v4l2camera does not build on Node 20).
//
// Frame waits run as napi async work on the libuv pool: poll() on the device fd plus an eventfd used by
// wake(), then a non-blocking DQBUF. Pull-based (one wait per frame the consumer asks for), so it needs no
// thread of its own, never blocks the event loop, and close() can interrupt a wait at once through the eventfd.
// Node offers no way to watch a character device's fd from JS, which rules out waiting on readiness in JS.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/usb/video.h>
#include <linux/uvcvideo.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <node_api.h>

#define MAX_BUFFERS 8

typedef struct {
  void *start;
  size_t length;
} mapped_buffer;

typedef struct {
  int fd;
  int wake_fd;
  int streaming;
  int busy; // an async read is in flight: the buffers and fd must not be torn down
  unsigned nbufs;
  mapped_buffer bufs[MAX_BUFFERS];
  char path[256];
} camera;

// ---- small helpers -------------------------------------------------------------------------------------------

static int xioctl(int fd, unsigned long req, void *arg) {
  int r;
  do r = ioctl(fd, req, arg);
  while (r == -1 && errno == EINTR);
  return r;
}

static const char *errno_code(int e) {
  switch (e) {
  case ENOENT:
    return "ENOENT";
  case EACCES:
    return "EACCES";
  case EPERM:
    return "EPERM";
  case EBUSY:
    return "EBUSY";
  case ENODEV:
    return "ENODEV";
  case ENXIO:
    return "ENXIO";
  case EINVAL:
    return "EINVAL";
  case ENOTTY:
    return "ENOTTY";
  case ENOMEM:
    return "ENOMEM";
  case EAGAIN:
    return "EAGAIN";
  case EIO:
    return "EIO";
  case ERANGE:
    return "ERANGE";
  case ENOSPC:
    return "ENOSPC";
  default:
    return "EIO";
  }
}

// Throws an Error whose .code is the errno name and whose message names the operation and the device.
static napi_value throw_errno(napi_env env, const camera *c, const char *what, int e) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s%s%s: %s", c ? c->path : "", c ? ": " : "", what, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

static napi_value throw_msg(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

#define NAPI_OK(call)                                                                                                  \
  do {                                                                                                                 \
    if ((call) != napi_ok) return throw_msg(env, "EIO", "v4l2 addon: N-API call failed");                              \
  } while (0)

static int set_u32(napi_env env, napi_value obj, const char *key, uint32_t v) {
  napi_value x;
  return napi_create_uint32(env, v, &x) == napi_ok && napi_set_named_property(env, obj, key, x) == napi_ok;
}

static int set_i32(napi_env env, napi_value obj, const char *key, int32_t v) {
  napi_value x;
  return napi_create_int32(env, v, &x) == napi_ok && napi_set_named_property(env, obj, key, x) == napi_ok;
}

static int set_f64(napi_env env, napi_value obj, const char *key, double v) {
  napi_value x;
  return napi_create_double(env, v, &x) == napi_ok && napi_set_named_property(env, obj, key, x) == napi_ok;
}

static int set_str(napi_env env, napi_value obj, const char *key, const char *s, size_t maxlen) {
  napi_value x;
  return napi_create_string_utf8(env, s, strnlen(s, maxlen), &x) == napi_ok &&
         napi_set_named_property(env, obj, key, x) == napi_ok;
}

static void fourcc_str(uint32_t f, char out[5]) {
  out[0] = (char)(f & 0xff);
  out[1] = (char)((f >> 8) & 0xff);
  out[2] = (char)((f >> 16) & 0xff);
  out[3] = (char)((f >> 24) & 0xff);
  out[4] = 0;
}

static void release_buffers(camera *c) {
  if (c->fd < 0) return;
  if (c->streaming) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(c->fd, VIDIOC_STREAMOFF, &type);
    c->streaming = 0;
  }
  for (unsigned i = 0; i < c->nbufs; i++) {
    if (c->bufs[i].start && c->bufs[i].start != MAP_FAILED) munmap(c->bufs[i].start, c->bufs[i].length);
    c->bufs[i].start = NULL;
    c->bufs[i].length = 0;
  }
  if (c->nbufs > 0) {
    struct v4l2_requestbuffers req;
    memset(&req, 0, sizeof req);
    req.count = 0;
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    xioctl(c->fd, VIDIOC_REQBUFS, &req);
  }
  c->nbufs = 0;
}

static void close_camera(camera *c) {
  release_buffers(c);
  if (c->fd >= 0) close(c->fd);
  if (c->wake_fd >= 0) close(c->wake_fd);
  c->fd = -1;
  c->wake_fd = -1;
}

static void finalize_camera(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  camera *c = data;
  // An in-flight read holds a reference to the handle, so this never runs while busy.
  close_camera(c);
  free(c);
}

// Every exported function takes the handle first. Returns NULL (with an exception pending) when unusable.
static camera *get_camera(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, int need_open) {
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1) {
    throw_msg(env, "EINVAL", "v4l2 addon: missing camera handle");
    return NULL;
  }
  void *data = NULL;
  if (napi_unwrap(env, argv[0], &data) != napi_ok || !data) {
    throw_msg(env, "EINVAL", "v4l2 addon: not a camera handle");
    return NULL;
  }
  camera *c = data;
  if (need_open && c->fd < 0) {
    throw_msg(env, "EBADF", "v4l2 addon: camera is closed");
    return NULL;
  }
  return c;
}

static int arg_u32(napi_env env, napi_value v, uint32_t *out) { return napi_get_value_uint32(env, v, out) == napi_ok; }

static int arg_fourcc(napi_env env, napi_value v, uint32_t *out) {
  char s[8];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, s, sizeof s, &len) != napi_ok || len != 4) return 0;
  *out = v4l2_fourcc(s[0], s[1], s[2], s[3]);
  return 1;
}

// ---- open / querycap / formats -------------------------------------------------------------------------------

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[256];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len == 0 ||
      len >= sizeof path - 1) {
    return throw_msg(env, "EINVAL", "open(path): path must be a non-empty string shorter than 255 bytes");
  }
  int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    char what[300];
    snprintf(what, sizeof what, "open %s", path);
    return throw_errno(env, NULL, what, e);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
    close(fd);
    char msg[300];
    snprintf(msg, sizeof msg, "%s is not a character device", path);
    return throw_msg(env, "ENODEV", msg);
  }
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, NULL, "eventfd", e);
  }
  camera *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    close(wake_fd);
    return throw_msg(env, "ENOMEM", "out of memory");
  }
  c->fd = fd;
  c->wake_fd = wake_fd;
  memcpy(c->path, path, len + 1);
  napi_value handle;
  if (napi_create_object(env, &handle) != napi_ok ||
      napi_wrap(env, handle, c, finalize_camera, NULL, NULL) != napi_ok) {
    close_camera(c);
    free(c);
    return throw_msg(env, "EIO", "open: cannot create handle");
  }
  return handle;
}

static napi_value js_querycap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  struct v4l2_capability cap;
  memset(&cap, 0, sizeof cap);
  if (xioctl(c->fd, VIDIOC_QUERYCAP, &cap) != 0) return throw_errno(env, c, "VIDIOC_QUERYCAP", errno);
  napi_value out;
  NAPI_OK(napi_create_object(env, &out));
  uint32_t dev = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!set_str(env, out, "driver", (const char *)cap.driver, sizeof cap.driver) ||
      !set_str(env, out, "card", (const char *)cap.card, sizeof cap.card) ||
      !set_str(env, out, "busInfo", (const char *)cap.bus_info, sizeof cap.bus_info) ||
      !set_u32(env, out, "version", cap.version) || !set_u32(env, out, "capabilities", cap.capabilities) ||
      !set_u32(env, out, "deviceCaps", dev)) {
    return throw_msg(env, "EIO", "querycap: cannot build result");
  }
  return out;
}

static napi_value js_enum_formats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  napi_value arr;
  NAPI_OK(napi_create_array(env, &arr));
  for (uint32_t i = 0; i < 64; i++) {
    struct v4l2_fmtdesc d;
    memset(&d, 0, sizeof d);
    d.index = i;
    d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(c->fd, VIDIOC_ENUM_FMT, &d) != 0) {
      if (errno == EINVAL) break;
      return throw_errno(env, c, "VIDIOC_ENUM_FMT", errno);
    }
    char fcc[5];
    fourcc_str(d.pixelformat, fcc);
    napi_value o;
    NAPI_OK(napi_create_object(env, &o));
    if (!set_str(env, o, "fourcc", fcc, 4) ||
        !set_str(env, o, "description", (const char *)d.description, sizeof d.description) ||
        !set_u32(env, o, "flags", d.flags)) {
      return throw_msg(env, "EIO", "enumFormats: cannot build result");
    }
    NAPI_OK(napi_set_element(env, arr, i, o));
  }
  return arr;
}

static napi_value js_enum_frame_sizes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t fmt;
  if (argc < 2 || !arg_fourcc(env, argv[1], &fmt)) return throw_msg(env, "EINVAL", "enumFrameSizes(h, fourcc)");
  napi_value out, discrete;
  NAPI_OK(napi_create_object(env, &out));
  NAPI_OK(napi_create_array(env, &discrete));
  NAPI_OK(napi_set_named_property(env, out, "discrete", discrete));
  uint32_t n = 0;
  for (uint32_t i = 0; i < 256; i++) {
    struct v4l2_frmsizeenum s;
    memset(&s, 0, sizeof s);
    s.index = i;
    s.pixel_format = fmt;
    if (xioctl(c->fd, VIDIOC_ENUM_FRAMESIZES, &s) != 0) {
      if (errno == EINVAL || errno == ENOTTY) break;
      return throw_errno(env, c, "VIDIOC_ENUM_FRAMESIZES", errno);
    }
    if (s.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
      napi_value o;
      NAPI_OK(napi_create_object(env, &o));
      if (!set_u32(env, o, "width", s.discrete.width) || !set_u32(env, o, "height", s.discrete.height)) {
        return throw_msg(env, "EIO", "enumFrameSizes: cannot build result");
      }
      NAPI_OK(napi_set_element(env, discrete, n++, o));
    } else {
      napi_value o;
      NAPI_OK(napi_create_object(env, &o));
      if (!set_u32(env, o, "minWidth", s.stepwise.min_width) || !set_u32(env, o, "maxWidth", s.stepwise.max_width) ||
          !set_u32(env, o, "stepWidth", s.stepwise.step_width) ||
          !set_u32(env, o, "minHeight", s.stepwise.min_height) ||
          !set_u32(env, o, "maxHeight", s.stepwise.max_height) ||
          !set_u32(env, o, "stepHeight", s.stepwise.step_height)) {
        return throw_msg(env, "EIO", "enumFrameSizes: cannot build result");
      }
      NAPI_OK(napi_set_named_property(env, out, "stepwise", o));
      break; // stepwise/continuous enumerations have exactly one entry
    }
  }
  return out;
}

static napi_value format_object(napi_env env, const struct v4l2_format *f) {
  char fcc[5];
  fourcc_str(f->fmt.pix.pixelformat, fcc);
  napi_value o;
  NAPI_OK(napi_create_object(env, &o));
  if (!set_str(env, o, "fourcc", fcc, 4) || !set_u32(env, o, "width", f->fmt.pix.width) ||
      !set_u32(env, o, "height", f->fmt.pix.height) || !set_u32(env, o, "bytesPerLine", f->fmt.pix.bytesperline) ||
      !set_u32(env, o, "sizeImage", f->fmt.pix.sizeimage)) {
    return throw_msg(env, "EIO", "format: cannot build result");
  }
  return o;
}

// setFormat(h, fourcc, width, height): S_FMT then G_FMT, returning what the driver actually chose.
static napi_value js_set_format(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t fmt, w, h;
  if (argc < 4 || !arg_fourcc(env, argv[1], &fmt) || !arg_u32(env, argv[2], &w) || !arg_u32(env, argv[3], &h)) {
    return throw_msg(env, "EINVAL", "setFormat(h, fourcc, width, height)");
  }
  if (c->streaming || c->busy) return throw_msg(env, "EBUSY", "setFormat: camera is streaming");
  struct v4l2_format f;
  memset(&f, 0, sizeof f);
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  f.fmt.pix.pixelformat = fmt;
  f.fmt.pix.width = w;
  f.fmt.pix.height = h;
  f.fmt.pix.field = V4L2_FIELD_NONE;
  if (xioctl(c->fd, VIDIOC_S_FMT, &f) != 0) return throw_errno(env, c, "VIDIOC_S_FMT", errno);
  memset(&f, 0, sizeof f);
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(c->fd, VIDIOC_G_FMT, &f) != 0) return throw_errno(env, c, "VIDIOC_G_FMT", errno);
  return format_object(env, &f);
}

// setFps(h, fps) -> achieved fps, or 0 when the driver cannot set the frame interval.
static napi_value js_set_fps(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t fps;
  if (argc < 2 || !arg_u32(env, argv[1], &fps) || fps == 0) return throw_msg(env, "EINVAL", "setFps(h, fps > 0)");
  struct v4l2_streamparm p;
  memset(&p, 0, sizeof p);
  p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  napi_value out;
  if (xioctl(c->fd, VIDIOC_G_PARM, &p) != 0 || !(p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME)) {
    NAPI_OK(napi_create_double(env, 0, &out));
    return out;
  }
  p.parm.capture.timeperframe.numerator = 1;
  p.parm.capture.timeperframe.denominator = fps;
  if (xioctl(c->fd, VIDIOC_S_PARM, &p) != 0) return throw_errno(env, c, "VIDIOC_S_PARM", errno);
  const struct v4l2_fract *t = &p.parm.capture.timeperframe;
  NAPI_OK(napi_create_double(env, t->numerator ? (double)t->denominator / t->numerator : 0, &out));
  return out;
}

// ---- controls ------------------------------------------------------------------------------------------------

// queryControl(h, id) -> { id, type, name, minimum, maximum, step, defaultValue, flags } or null if absent.
static napi_value js_query_control(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t id;
  if (argc < 2 || !arg_u32(env, argv[1], &id)) return throw_msg(env, "EINVAL", "queryControl(h, id)");
  struct v4l2_queryctrl q;
  memset(&q, 0, sizeof q);
  q.id = id;
  napi_value out;
  if (xioctl(c->fd, VIDIOC_QUERYCTRL, &q) != 0 || (q.flags & V4L2_CTRL_FLAG_DISABLED)) {
    if (errno != EINVAL && !(q.flags & V4L2_CTRL_FLAG_DISABLED)) return throw_errno(env, c, "VIDIOC_QUERYCTRL", errno);
    NAPI_OK(napi_get_null(env, &out));
    return out;
  }
  NAPI_OK(napi_create_object(env, &out));
  if (!set_u32(env, out, "id", q.id) || !set_u32(env, out, "type", q.type) ||
      !set_str(env, out, "name", (const char *)q.name, sizeof q.name) || !set_i32(env, out, "minimum", q.minimum) ||
      !set_i32(env, out, "maximum", q.maximum) || !set_i32(env, out, "step", q.step) ||
      !set_i32(env, out, "defaultValue", q.default_value) || !set_u32(env, out, "flags", q.flags)) {
    return throw_msg(env, "EIO", "queryControl: cannot build result");
  }
  return out;
}

static napi_value js_get_control(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t id;
  if (argc < 2 || !arg_u32(env, argv[1], &id)) return throw_msg(env, "EINVAL", "getControl(h, id)");
  struct v4l2_control ctl = {.id = id, .value = 0};
  if (xioctl(c->fd, VIDIOC_G_CTRL, &ctl) != 0) return throw_errno(env, c, "VIDIOC_G_CTRL", errno);
  napi_value out;
  NAPI_OK(napi_create_int32(env, ctl.value, &out));
  return out;
}

static napi_value js_set_control(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t id;
  int32_t value;
  if (argc < 3 || !arg_u32(env, argv[1], &id) || napi_get_value_int32(env, argv[2], &value) != napi_ok) {
    return throw_msg(env, "EINVAL", "setControl(h, id, value)");
  }
  struct v4l2_control ctl = {.id = id, .value = value};
  if (xioctl(c->fd, VIDIOC_S_CTRL, &ctl) != 0) return throw_errno(env, c, "VIDIOC_S_CTRL", errno);
  napi_value out;
  NAPI_OK(napi_create_int32(env, ctl.value, &out));
  return out;
}

// uvcXuQuery(h, unit, selector, query, data: Buffer): one UVCIOC_CTRL_QUERY (UVC_SET_CUR, UVC_GET_CUR, UVC_GET_LEN
// ...). GET queries fill `data`. Used to light IR emitters that are only reachable through an extension unit.
static napi_value js_uvc_xu_query(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t unit, selector, query;
  void *data = NULL;
  size_t len = 0;
  if (argc < 5 || !arg_u32(env, argv[1], &unit) || !arg_u32(env, argv[2], &selector) ||
      !arg_u32(env, argv[3], &query) || napi_get_buffer_info(env, argv[4], &data, &len) != napi_ok || unit > 255 ||
      selector > 255 || query > 255 || len == 0 || len > 65535) {
    return throw_msg(env, "EINVAL",
                     "uvcXuQuery(h, unit 0..255, selector 0..255, query, data: Buffer of 1..65535 bytes)");
  }
  struct uvc_xu_control_query q;
  memset(&q, 0, sizeof q);
  q.unit = (uint8_t)unit;
  q.selector = (uint8_t)selector;
  q.query = (uint8_t)query;
  q.size = (uint16_t)len;
  q.data = data;
  if (xioctl(c->fd, UVCIOC_CTRL_QUERY, &q) != 0) return throw_errno(env, c, "UVCIOC_CTRL_QUERY", errno);
  napi_value out;
  NAPI_OK(napi_get_undefined(env, &out));
  return out;
}

// ---- streaming -----------------------------------------------------------------------------------------------

// start(h, count) -> number of buffers: REQBUFS, QUERYBUF + mmap, QBUF each, STREAMON.
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t want;
  if (argc < 2 || !arg_u32(env, argv[1], &want) || want < 2 || want > MAX_BUFFERS) {
    return throw_msg(env, "EINVAL", "start(h, count 2..8)");
  }
  if (c->streaming || c->nbufs > 0) return throw_msg(env, "EBUSY", "start: already streaming");
  struct v4l2_requestbuffers req;
  memset(&req, 0, sizeof req);
  req.count = want;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (xioctl(c->fd, VIDIOC_REQBUFS, &req) != 0) return throw_errno(env, c, "VIDIOC_REQBUFS", errno);
  if (req.count < 2) {
    c->nbufs = req.count; // so release_buffers frees what the driver did allocate
    release_buffers(c);
    return throw_msg(env, "ENOMEM", "VIDIOC_REQBUFS: the driver granted fewer than 2 buffers");
  }
  c->nbufs = req.count > MAX_BUFFERS ? MAX_BUFFERS : req.count;
  for (unsigned i = 0; i < c->nbufs; i++) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = i;
    if (xioctl(c->fd, VIDIOC_QUERYBUF, &b) != 0) {
      int e = errno;
      release_buffers(c);
      return throw_errno(env, c, "VIDIOC_QUERYBUF", e);
    }
    void *p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, b.m.offset);
    if (p == MAP_FAILED) {
      int e = errno;
      release_buffers(c);
      return throw_errno(env, c, "mmap", e);
    }
    c->bufs[i].start = p;
    c->bufs[i].length = b.length;
  }
  for (unsigned i = 0; i < c->nbufs; i++) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = i;
    if (xioctl(c->fd, VIDIOC_QBUF, &b) != 0) {
      int e = errno;
      release_buffers(c);
      return throw_errno(env, c, "VIDIOC_QBUF", e);
    }
  }
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(c->fd, VIDIOC_STREAMON, &type) != 0) {
    int e = errno;
    release_buffers(c);
    return throw_errno(env, c, "VIDIOC_STREAMON", e);
  }
  c->streaming = 1;
  napi_value out;
  NAPI_OK(napi_create_uint32(env, c->nbufs, &out));
  return out;
}

typedef enum { READ_FRAME, READ_TIMEOUT, READ_WOKEN, READ_ERROR } read_status;

typedef struct {
  camera *cam;
  napi_ref handle_ref;
  napi_ref dest_ref;
  uint8_t *dest;
  size_t dest_len;
  int timeout_ms;
  napi_async_work work;
  napi_deferred deferred;
  // results
  read_status status;
  int err;
  const char *err_what;
  uint32_t bytesused;
  uint32_t sequence;
  uint32_t flags;
  uint32_t dropped; // older ready frames requeued in favour of the newest
  double timestamp_us;
} read_request;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dqbuf(int fd, struct v4l2_buffer *b) {
  memset(b, 0, sizeof *b);
  b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b->memory = V4L2_MEMORY_MMAP;
  return xioctl(fd, VIDIOC_DQBUF, b);
}

static void read_execute(napi_env env, void *data) {
  (void)env;
  read_request *r = data;
  camera *c = r->cam;
  int64_t deadline = now_ms() + r->timeout_ms;
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left < 0) left = 0;
    struct pollfd fds[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = c->wake_fd, .events = POLLIN}};
    int n = poll(fds, 2, (int)left);
    if (n < 0) {
      if (errno == EINTR) continue;
      r->status = READ_ERROR;
      r->err = errno;
      r->err_what = "poll";
      return;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      if (read(c->wake_fd, &v, sizeof v) < 0) { /* already drained: nothing to do */
      }
      r->status = READ_WOKEN;
      return;
    }
    if (n == 0) {
      r->status = READ_TIMEOUT;
      return;
    }
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      r->status = READ_ERROR;
      r->err = ENODEV; // unplugged, or streaming stopped under us
      r->err_what = "poll";
      return;
    }
    struct v4l2_buffer b;
    if (dqbuf(c->fd, &b) != 0) {
      if (errno == EAGAIN) continue; // spurious readiness
      r->status = READ_ERROR;
      r->err = errno;
      r->err_what = "VIDIOC_DQBUF";
      return;
    }
    // Hand out the newest frame: a consumer that fell behind wants what the camera sees now, not a backlog.
    struct v4l2_buffer newer;
    while (dqbuf(c->fd, &newer) == 0) {
      xioctl(c->fd, VIDIOC_QBUF, &b);
      b = newer;
      r->dropped++;
    }
    if ((b.flags & V4L2_BUF_FLAG_ERROR) || b.index >= c->nbufs) {
      xioctl(c->fd, VIDIOC_QBUF, &b); // corrupted frame: give the buffer back and wait for the next
      continue;
    }
    size_t used = b.bytesused ? b.bytesused : c->bufs[b.index].length;
    if (used > c->bufs[b.index].length) used = c->bufs[b.index].length;
    if (used > r->dest_len) used = r->dest_len;
    memcpy(r->dest, c->bufs[b.index].start, used);
    r->bytesused = (uint32_t)used;
    r->sequence = b.sequence;
    r->flags = b.flags;
    r->timestamp_us = (double)b.timestamp.tv_sec * 1e6 + (double)b.timestamp.tv_usec;
    if (xioctl(c->fd, VIDIOC_QBUF, &b) != 0) {
      r->status = READ_ERROR;
      r->err = errno;
      r->err_what = "VIDIOC_QBUF";
      return;
    }
    r->status = READ_FRAME;
    return;
  }
}

static void read_complete(napi_env env, napi_status status, void *data) {
  read_request *r = data;
  r->cam->busy = 0;
  napi_value result = NULL;
  int reject = 0;
  if (status != napi_ok) {
    reject = 1;
    napi_value msg;
    napi_create_string_utf8(env, "read cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
  } else if (r->status == READ_ERROR) {
    reject = 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s: %s: %s", r->cam->path, r->err_what, strerror(r->err));
    napi_value msg, code;
    napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, errno_code(r->err), NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &result);
  } else {
    napi_create_object(env, &result);
    const char *s = r->status == READ_FRAME ? "frame" : r->status == READ_TIMEOUT ? "timeout" : "woken";
    set_str(env, result, "status", s, 16);
    if (r->status == READ_FRAME) {
      set_u32(env, result, "bytesUsed", r->bytesused);
      set_u32(env, result, "sequence", r->sequence);
      set_u32(env, result, "flags", r->flags);
      set_u32(env, result, "dropped", r->dropped);
      set_f64(env, result, "timestampUs", r->timestamp_us);
    }
  }
  if (reject)
    napi_reject_deferred(env, r->deferred, result);
  else
    napi_resolve_deferred(env, r->deferred, result);
  napi_delete_reference(env, r->handle_ref);
  napi_delete_reference(env, r->dest_ref);
  napi_delete_async_work(env, r->work);
  free(r);
}

// read(h, timeoutMs, dest: Buffer) -> Promise<{ status: 'frame', bytesUsed, sequence, timestampUs, ... } |
// { status: 'timeout' } | { status: 'woken' }>. The frame is copied into dest and its buffer requeued at once.
static napi_value js_read(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  camera *c = get_camera(env, info, &argc, argv, 1);
  if (!c) return NULL;
  uint32_t timeout;
  void *dest = NULL;
  size_t dest_len = 0;
  if (argc < 3 || !arg_u32(env, argv[1], &timeout) || napi_get_buffer_info(env, argv[2], &dest, &dest_len) != napi_ok ||
      dest_len == 0) {
    return throw_msg(env, "EINVAL", "read(h, timeoutMs, dest: Buffer)");
  }
  if (!c->streaming) return throw_msg(env, "EINVAL", "read: camera is not streaming");
  if (c->busy) return throw_msg(env, "EBUSY", "read: a read is already in flight");
  read_request *r = calloc(1, sizeof *r);
  if (!r) return throw_msg(env, "ENOMEM", "out of memory");
  r->cam = c;
  r->dest = dest;
  r->dest_len = dest_len;
  r->timeout_ms = (int)(timeout > 600000 ? 600000 : timeout);
  napi_value promise, name;
  if (napi_create_reference(env, argv[0], 1, &r->handle_ref) != napi_ok) {
    free(r);
    return throw_msg(env, "EIO", "read: cannot reference handle");
  }
  if (napi_create_reference(env, argv[2], 1, &r->dest_ref) != napi_ok) {
    napi_delete_reference(env, r->handle_ref);
    free(r);
    return throw_msg(env, "EIO", "read: cannot reference buffer");
  }
  if (napi_create_promise(env, &r->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "facegate.v4l2.read", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, read_execute, read_complete, r, &r->work) != napi_ok ||
      napi_queue_async_work(env, r->work) != napi_ok) {
    napi_delete_reference(env, r->handle_ref);
    napi_delete_reference(env, r->dest_ref);
    free(r);
    return throw_msg(env, "EIO", "read: cannot queue work");
  }
  c->busy = 1;
  return promise;
}

// wake(h): makes an in-flight read return { status: 'woken' } now (used by close()).
static napi_value js_wake(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  camera *c = get_camera(env, info, &argc, argv, 0);
  if (!c) return NULL;
  if (c->wake_fd >= 0) {
    uint64_t one = 1;
    if (write(c->wake_fd, &one, sizeof one) < 0) { /* counter saturated: a wake is already pending */
    }
  }
  napi_value out;
  NAPI_OK(napi_get_undefined(env, &out));
  return out;
}

// close(h): STREAMOFF, munmap, REQBUFS(0), close. Idempotent. Refuses while a read is in flight (wake first).
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  camera *c = get_camera(env, info, &argc, argv, 0);
  if (!c) return NULL;
  if (c->busy) return throw_msg(env, "EBUSY", "close: a read is in flight; wake() and await it first");
  close_camera(c);
  napi_value out;
  NAPI_OK(napi_get_undefined(env, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"open", js_open},
      {"querycap", js_querycap},
      {"enumFormats", js_enum_formats},
      {"enumFrameSizes", js_enum_frame_sizes},
      {"setFormat", js_set_format},
      {"setFps", js_set_fps},
      {"queryControl", js_query_control},
      {"getControl", js_get_control},
      {"setControl", js_set_control},
      {"uvcXuQuery", js_uvc_xu_query},
      {"start", js_start},
      {"read", js_read},
      {"wake", js_wake},
      {"close", js_close},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) {
      return NULL;
    }
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

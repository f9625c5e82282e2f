// LD_PRELOAD shim: a synthetic V4L2 capture device for tests on machines without /dev/video* or v4l2loopback.
//
// It intercepts open/openat/close/ioctl/mmap/munmap/poll for one fake path and answers the real V4L2 ioctls
// (QUERYCAP, ENUM_FMT, ENUM_FRAMESIZES, S_FMT/G_FMT, G_PARM/S_PARM, QUERYCTRL/G_CTRL/S_CTRL, REQBUFS, QUERYBUF,
// QBUF/DQBUF, STREAMON/STREAMOFF, UVCIOC_CTRL_QUERY) like a UVC driver would. Everything else passes through.
//
// Environment:
//   FAKE_V4L2_PATH         device path to fake (default /dev/video-fake0)
//   FAKE_V4L2_LOG          file that receives one line per call on the fake device (ioctl sequence)
//   FAKE_V4L2_FORMATS      formats in enumeration order, comma separated (default GREY,YUYV,MJPG)
//   FAKE_V4L2_SIZES        discrete sizes for every format (default 640x480,320x240)
//   FAKE_V4L2_FPS          initial frame rate (default 30)
//   FAKE_V4L2_NO_STREAMING drop V4L2_CAP_STREAMING from the capabilities
//   FAKE_V4L2_NO_CAPTURE   advertise a video output device instead of a capture device
//   FAKE_V4L2_OPEN_ERRNO   make open() fail with this errno number
//   FAKE_V4L2_MJPEG        JPEG file served as every MJPG frame
//   FAKE_V4L2_STALL_AFTER  deliver this many frames per STREAMON, then none (a stalled or covered camera)
//   FAKE_V4L2_CARD         card name reported by QUERYCAP (default "Fake IR Camera")
//
// Frame pattern for frame sequence s at pixel (x, y) (tests recompute it):
//   GREY: Y = (x + 3y + 7s) & 255
//   YUYV: Y as GREY; per pixel pair (x even): U = (2x + y) & 255, V = (255 - x - 2y) & 255
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/usb/video.h>
#include <linux/uvcvideo.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_FORMATS 4
#define MAX_SIZES 8
#define NBUF_MAX 4
#define OFFSET_STEP 0x100000

typedef struct {
  void *mem;
  size_t length;
  int queued;
  int mapped;
} fake_buf;

typedef struct {
  uint32_t width, height;
} fsize;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int (*real_poll)(struct pollfd *, nfds_t, int);

static char fake_path[256] = "/dev/video-fake0";
static volatile int fake_fd = -1;
static FILE *logf;
static uint32_t formats[MAX_FORMATS];
static int nformats;
static fsize sizes[MAX_SIZES];
static int nsizes;
static int no_streaming, no_capture, open_errno;
static long stall_after = -1;
static char card[32] = "Fake IR Camera";
static uint8_t *mjpeg;
static size_t mjpeg_len;

// device state
static uint32_t cur_fmt, cur_w, cur_h;
static uint32_t fps_num = 1, fps_den = 30;
static int exposure_auto = V4L2_EXPOSURE_APERTURE_PRIORITY, exposure_abs = 156;
static fake_buf bufs[NBUF_MAX];
static int nbufs;
static volatile int any_buffers;
static int streaming;
static int queue[NBUF_MAX], qhead, qlen;
static double stream_start_ms;
static uint32_t produced;
static uint8_t xu_value[64];
static const uint16_t XU_LEN = 9;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void logline(const char *fmt, ...) {
  if (!logf) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(logf, fmt, ap);
  va_end(ap);
  fputc('\n', logf);
  fflush(logf);
}

static void fcc(uint32_t f, char out[5]) {
  for (int i = 0; i < 4; i++) out[i] = (char)((f >> (8 * i)) & 0xff);
  out[4] = 0;
}

static uint32_t parse_fcc(const char *s) { return v4l2_fourcc(s[0], s[1], s[2], s[3]); }

__attribute__((constructor)) static void init(void) {
  real_open = dlsym(RTLD_NEXT, "open");
  real_openat = dlsym(RTLD_NEXT, "openat");
  real_close = dlsym(RTLD_NEXT, "close");
  real_ioctl = dlsym(RTLD_NEXT, "ioctl");
  real_mmap = dlsym(RTLD_NEXT, "mmap");
  real_munmap = dlsym(RTLD_NEXT, "munmap");
  real_poll = dlsym(RTLD_NEXT, "poll");
  const char *p = getenv("FAKE_V4L2_PATH");
  if (p && *p && strlen(p) < sizeof fake_path) strcpy(fake_path, p);
  const char *l = getenv("FAKE_V4L2_LOG");
  if (l && *l) {
    int fd = (int)syscall(SYS_openat, AT_FDCWD, l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) logf = fdopen(fd, "a");
  }
  const char *f = getenv("FAKE_V4L2_FORMATS");
  char buf[128];
  snprintf(buf, sizeof buf, "%s", f ? f : "GREY,YUYV,MJPG");
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && nformats < MAX_FORMATS; t = strtok_r(NULL, ",", &save)) {
    if (strlen(t) == 4) formats[nformats++] = parse_fcc(t);
  }
  const char *s = getenv("FAKE_V4L2_SIZES");
  snprintf(buf, sizeof buf, "%s", s ? s : "640x480,320x240");
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && nsizes < MAX_SIZES; t = strtok_r(NULL, ",", &save)) {
    unsigned w, h;
    if (sscanf(t, "%ux%u", &w, &h) == 2 && w > 0 && h > 0 && w % 2 == 0) sizes[nsizes++] = (fsize){w, h};
  }
  const char *r = getenv("FAKE_V4L2_FPS");
  if (r && atoi(r) > 0) fps_den = (uint32_t)atoi(r);
  no_streaming = getenv("FAKE_V4L2_NO_STREAMING") != NULL;
  no_capture = getenv("FAKE_V4L2_NO_CAPTURE") != NULL;
  const char *e = getenv("FAKE_V4L2_OPEN_ERRNO");
  if (e) open_errno = atoi(e);
  const char *st = getenv("FAKE_V4L2_STALL_AFTER");
  if (st && *st) stall_after = atol(st);
  const char *cn = getenv("FAKE_V4L2_CARD");
  if (cn && *cn) snprintf(card, sizeof card, "%s", cn);
  const char *m = getenv("FAKE_V4L2_MJPEG");
  if (m && *m) {
    FILE *jf = fopen(m, "rb");
    if (jf) {
      fseek(jf, 0, SEEK_END);
      long n = ftell(jf);
      fseek(jf, 0, SEEK_SET);
      if (n > 0) {
        mjpeg = malloc((size_t)n);
        if (mjpeg && fread(mjpeg, 1, (size_t)n, jf) == (size_t)n) mjpeg_len = (size_t)n;
      }
      fclose(jf);
    }
  }
  if (nformats > 0) cur_fmt = formats[0];
  if (nsizes > 0) {
    cur_w = sizes[0].width;
    cur_h = sizes[0].height;
  }
}

static int has_format(uint32_t f) {
  for (int i = 0; i < nformats; i++)
    if (formats[i] == f) return 1;
  return 0;
}

static uint32_t bytes_per_line(uint32_t f, uint32_t w) {
  return f == V4L2_PIX_FMT_GREY ? w : f == V4L2_PIX_FMT_YUYV ? 2 * w : 0;
}

static uint32_t size_image(uint32_t f, uint32_t w, uint32_t h) {
  uint32_t n = f == V4L2_PIX_FMT_GREY ? w * h : 2 * w * h;
  if (f == V4L2_PIX_FMT_MJPEG && mjpeg_len > n) n = (uint32_t)mjpeg_len;
  return n;
}

static void fill_format(struct v4l2_format *fmt) {
  memset(&fmt->fmt.pix, 0, sizeof fmt->fmt.pix);
  fmt->fmt.pix.pixelformat = cur_fmt;
  fmt->fmt.pix.width = cur_w;
  fmt->fmt.pix.height = cur_h;
  fmt->fmt.pix.field = V4L2_FIELD_NONE;
  fmt->fmt.pix.bytesperline = bytes_per_line(cur_fmt, cur_w);
  fmt->fmt.pix.sizeimage = size_image(cur_fmt, cur_w, cur_h);
  fmt->fmt.pix.colorspace = V4L2_COLORSPACE_SRGB;
}

static uint32_t generate(uint8_t *dst, size_t cap, uint32_t seq) {
  uint32_t w = cur_w, h = cur_h;
  if (cur_fmt == V4L2_PIX_FMT_GREY) {
    if (cap < (size_t)w * h) return 0;
    for (uint32_t y = 0; y < h; y++)
      for (uint32_t x = 0; x < w; x++) dst[y * w + x] = (uint8_t)((x + 3 * y + 7 * seq) & 255);
    return w * h;
  }
  if (cur_fmt == V4L2_PIX_FMT_YUYV) {
    if (cap < (size_t)w * h * 2) return 0;
    for (uint32_t y = 0; y < h; y++) {
      uint8_t *row = dst + (size_t)y * w * 2;
      for (uint32_t x = 0; x < w; x += 2) {
        row[2 * x] = (uint8_t)((x + 3 * y + 7 * seq) & 255);
        row[2 * x + 1] = (uint8_t)((2 * x + y) & 255);
        row[2 * x + 2] = (uint8_t)((x + 1 + 3 * y + 7 * seq) & 255);
        row[2 * x + 3] = (uint8_t)((255 - x - 2 * y) & 255);
      }
    }
    return w * h * 2;
  }
  if (mjpeg_len && mjpeg_len <= cap) {
    memcpy(dst, mjpeg, mjpeg_len);
    return (uint32_t)mjpeg_len;
  }
  memset(dst, 0, cap < 16 ? cap : 16);
  return cap < 16 ? (uint32_t)cap : 16; // not a JPEG: the consumer must report a decode error
}

static void free_buffers(void) {
  for (int i = 0; i < nbufs; i++) {
    if (bufs[i].mapped) logline("LEAK buffer %d still mapped", i);
    if (bufs[i].mem) real_munmap(bufs[i].mem, bufs[i].length);
    memset(&bufs[i], 0, sizeof bufs[i]);
  }
  nbufs = 0;
  any_buffers = 0;
  qhead = qlen = 0;
}

static double frame_due(void) { return stream_start_ms + produced * (1000.0 * fps_num / fps_den); }

static int stalled(void) { return stall_after >= 0 && produced >= (uint32_t)stall_after; }

static int frame_ready(void) { return streaming && qlen > 0 && !stalled() && now_ms() >= frame_due(); }

static int fail(int e) {
  errno = e;
  return -1;
}

static int fake_ioctl(unsigned long req, void *arg) {
  char a[5], b[5];
  switch (req) {
    case VIDIOC_QUERYCAP: {
      struct v4l2_capability *cap = arg;
      memset(cap, 0, sizeof *cap);
      snprintf((char *)cap->driver, sizeof cap->driver, "fake_v4l2");
      snprintf((char *)cap->card, sizeof cap->card, "%s", card);
      snprintf((char *)cap->bus_info, sizeof cap->bus_info, "fake:0");
      cap->version = 0x060100;
      uint32_t dev = (no_capture ? V4L2_CAP_VIDEO_OUTPUT : V4L2_CAP_VIDEO_CAPTURE) | (no_streaming ? 0 : V4L2_CAP_STREAMING);
      cap->device_caps = dev;
      cap->capabilities = dev | V4L2_CAP_DEVICE_CAPS;
      logline("VIDIOC_QUERYCAP");
      return 0;
    }
    case VIDIOC_ENUM_FMT: {
      struct v4l2_fmtdesc *d = arg;
      if (d->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || d->index >= (uint32_t)nformats) {
        logline("VIDIOC_ENUM_FMT %u EINVAL", d->index);
        return fail(EINVAL);
      }
      uint32_t idx = d->index;
      memset(d, 0, sizeof *d);
      d->index = idx;
      d->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      d->pixelformat = formats[idx];
      if (formats[idx] == V4L2_PIX_FMT_MJPEG) d->flags = V4L2_FMT_FLAG_COMPRESSED;
      fcc(formats[idx], a);
      snprintf((char *)d->description, sizeof d->description, "fake %s", a);
      logline("VIDIOC_ENUM_FMT %u %s", idx, a);
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
      struct v4l2_frmsizeenum *s = arg;
      fcc(s->pixel_format, a);
      if (!has_format(s->pixel_format) || s->index >= (uint32_t)nsizes) {
        logline("VIDIOC_ENUM_FRAMESIZES %s %u EINVAL", a, s->index);
        return fail(EINVAL);
      }
      s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
      s->discrete.width = sizes[s->index].width;
      s->discrete.height = sizes[s->index].height;
      logline("VIDIOC_ENUM_FRAMESIZES %s %u %ux%u", a, s->index, s->discrete.width, s->discrete.height);
      return 0;
    }
    case VIDIOC_G_FMT:
    case VIDIOC_S_FMT:
    case VIDIOC_TRY_FMT: {
      struct v4l2_format *f = arg;
      if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return fail(EINVAL);
      if (req == VIDIOC_G_FMT) {
        fill_format(f);
        fcc(cur_fmt, a);
        logline("VIDIOC_G_FMT %s %ux%u", a, cur_w, cur_h);
        return 0;
      }
      if (req == VIDIOC_S_FMT && nbufs > 0) {
        logline("VIDIOC_S_FMT EBUSY");
        return fail(EBUSY);
      }
      uint32_t want = f->fmt.pix.pixelformat, w = f->fmt.pix.width, h = f->fmt.pix.height;
      uint32_t pick = has_format(want) ? want : formats[0];
      // Nearest listed size, like uvcvideo.
      int best = 0;
      long bestd = -1;
      for (int i = 0; i < nsizes; i++) {
        long d = labs((long)sizes[i].width - (long)w) + labs((long)sizes[i].height - (long)h);
        if (bestd < 0 || d < bestd) {
          bestd = d;
          best = i;
        }
      }
      fcc(want, a);
      fcc(pick, b);
      uint32_t ow = cur_w, oh = cur_h, of = cur_fmt;
      cur_fmt = pick;
      cur_w = sizes[best].width;
      cur_h = sizes[best].height;
      fill_format(f);
      if (req == VIDIOC_TRY_FMT) {
        cur_fmt = of;
        cur_w = ow;
        cur_h = oh;
      }
      logline("%s %s %ux%u -> %s %ux%u", req == VIDIOC_S_FMT ? "VIDIOC_S_FMT" : "VIDIOC_TRY_FMT", a, w, h, b,
              f->fmt.pix.width, f->fmt.pix.height);
      return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
      struct v4l2_streamparm *p = arg;
      if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return fail(EINVAL);
      if (req == VIDIOC_S_PARM) {
        struct v4l2_fract t = p->parm.capture.timeperframe;
        if (t.numerator && t.denominator) {
          double fps = (double)t.denominator / t.numerator;
          if (fps > 120) fps = 120;
          if (fps < 1) fps = 1;
          fps_num = 1;
          fps_den = (uint32_t)(fps + 0.5);
        }
      }
      memset(&p->parm, 0, sizeof p->parm);
      p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
      p->parm.capture.timeperframe.numerator = fps_num;
      p->parm.capture.timeperframe.denominator = fps_den;
      p->parm.capture.readbuffers = 0;
      logline("%s %u/%u", req == VIDIOC_S_PARM ? "VIDIOC_S_PARM" : "VIDIOC_G_PARM", fps_num, fps_den);
      return 0;
    }
    case VIDIOC_QUERYCTRL: {
      struct v4l2_queryctrl *q = arg;
      uint32_t id = q->id;
      memset(q, 0, sizeof *q);
      q->id = id;
      if (id == V4L2_CID_EXPOSURE_AUTO) {
        q->type = V4L2_CTRL_TYPE_MENU;
        snprintf((char *)q->name, sizeof q->name, "Auto Exposure");
        q->minimum = 0;
        q->maximum = 3;
        q->step = 1;
        q->default_value = V4L2_EXPOSURE_APERTURE_PRIORITY;
      } else if (id == V4L2_CID_EXPOSURE_ABSOLUTE) {
        q->type = V4L2_CTRL_TYPE_INTEGER;
        snprintf((char *)q->name, sizeof q->name, "Exposure Time, Absolute");
        q->minimum = 1;
        q->maximum = 5000;
        q->step = 1;
        q->default_value = 156;
      } else {
        logline("VIDIOC_QUERYCTRL 0x%x EINVAL", id);
        return fail(EINVAL);
      }
      logline("VIDIOC_QUERYCTRL 0x%x", id);
      return 0;
    }
    case VIDIOC_G_CTRL:
    case VIDIOC_S_CTRL: {
      struct v4l2_control *c = arg;
      int *slot = c->id == V4L2_CID_EXPOSURE_AUTO ? &exposure_auto : c->id == V4L2_CID_EXPOSURE_ABSOLUTE ? &exposure_abs : NULL;
      const char *name = req == VIDIOC_S_CTRL ? "VIDIOC_S_CTRL" : "VIDIOC_G_CTRL";
      if (!slot) {
        logline("%s 0x%x EINVAL", name, c->id);
        return fail(EINVAL);
      }
      if (req == VIDIOC_S_CTRL) {
        int lo = c->id == V4L2_CID_EXPOSURE_AUTO ? 0 : 1, hi = c->id == V4L2_CID_EXPOSURE_AUTO ? 3 : 5000;
        if (c->value < lo || c->value > hi) {
          logline("%s 0x%x %d ERANGE", name, c->id, c->value);
          return fail(ERANGE);
        }
        *slot = c->value;
      } else {
        c->value = *slot;
      }
      logline("%s 0x%x %d", name, c->id, c->value);
      return 0;
    }
    case VIDIOC_REQBUFS: {
      struct v4l2_requestbuffers *r = arg;
      if (r->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || r->memory != V4L2_MEMORY_MMAP) return fail(EINVAL);
      if (no_streaming) {
        logline("VIDIOC_REQBUFS %u EINVAL", r->count);
        return fail(EINVAL);
      }
      if (streaming) {
        logline("VIDIOC_REQBUFS %u EBUSY", r->count);
        return fail(EBUSY);
      }
      uint32_t want = r->count;
      free_buffers();
      uint32_t n = want > NBUF_MAX ? NBUF_MAX : want;
      size_t len = size_image(cur_fmt, cur_w, cur_h);
      for (uint32_t i = 0; i < n; i++) {
        size_t plen = (len + 4095) & ~(size_t)4095;
        void *m = real_mmap(NULL, plen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
          free_buffers();
          return fail(ENOMEM);
        }
        bufs[i] = (fake_buf){m, plen, 0, 0};
      }
      nbufs = (int)n;
      any_buffers = nbufs > 0;
      r->count = n;
      logline("VIDIOC_REQBUFS %u -> %u", want, n);
      return 0;
    }
    case VIDIOC_QUERYBUF:
    case VIDIOC_QBUF:
    case VIDIOC_DQBUF: {
      struct v4l2_buffer *vb = arg;
      if (vb->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || vb->memory != V4L2_MEMORY_MMAP) return fail(EINVAL);
      if (req == VIDIOC_DQBUF) {
        if (!streaming) {
          logline("VIDIOC_DQBUF EINVAL");
          return fail(EINVAL);
        }
        if (!frame_ready()) return fail(EAGAIN);
        int i = queue[qhead];
        qhead = (qhead + 1) % NBUF_MAX;
        qlen--;
        bufs[i].queued = 0;
        uint32_t seq = produced++;
        uint32_t used = generate(bufs[i].mem, size_image(cur_fmt, cur_w, cur_h), seq);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        memset(vb, 0, sizeof *vb);
        vb->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        vb->memory = V4L2_MEMORY_MMAP;
        vb->index = (uint32_t)i;
        vb->bytesused = used;
        vb->length = size_image(cur_fmt, cur_w, cur_h);
        vb->m.offset = (uint32_t)i * OFFSET_STEP;
        vb->sequence = seq;
        vb->field = V4L2_FIELD_NONE;
        vb->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_DONE | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
        vb->timestamp.tv_sec = ts.tv_sec;
        vb->timestamp.tv_usec = ts.tv_nsec / 1000;
        logline("VIDIOC_DQBUF %d seq=%u", i, seq);
        return 0;
      }
      if (vb->index >= (uint32_t)nbufs) {
        logline("%s %u EINVAL", req == VIDIOC_QBUF ? "VIDIOC_QBUF" : "VIDIOC_QUERYBUF", vb->index);
        return fail(EINVAL);
      }
      int i = (int)vb->index;
      if (req == VIDIOC_QUERYBUF) {
        vb->length = (uint32_t)size_image(cur_fmt, cur_w, cur_h);
        vb->m.offset = (uint32_t)i * OFFSET_STEP;
        vb->flags = (bufs[i].mapped ? V4L2_BUF_FLAG_MAPPED : 0) | (bufs[i].queued ? V4L2_BUF_FLAG_QUEUED : 0);
        logline("VIDIOC_QUERYBUF %d", i);
        return 0;
      }
      if (bufs[i].queued) {
        logline("VIDIOC_QBUF %d EINVAL (already queued)", i);
        return fail(EINVAL);
      }
      bufs[i].queued = 1;
      queue[(qhead + qlen) % NBUF_MAX] = i;
      qlen++;
      logline("VIDIOC_QBUF %d", i);
      return 0;
    }
    case VIDIOC_STREAMON:
    case VIDIOC_STREAMOFF: {
      int *type = arg;
      if (*type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return fail(EINVAL);
      if (req == VIDIOC_STREAMON) {
        if (nbufs == 0) {
          logline("VIDIOC_STREAMON EINVAL");
          return fail(EINVAL);
        }
        streaming = 1;
        stream_start_ms = now_ms();
        produced = 0;
        logline("VIDIOC_STREAMON");
      } else {
        streaming = 0;
        // STREAMOFF dequeues everything, as in vb2.
        for (int i = 0; i < nbufs; i++) bufs[i].queued = 0;
        qhead = qlen = 0;
        logline("VIDIOC_STREAMOFF");
      }
      return 0;
    }
    case UVCIOC_CTRL_QUERY: {
      struct uvc_xu_control_query *q = arg;
      char hex[2 * sizeof xu_value + 1];
      hex[0] = 0;
      if (q->query == UVC_GET_LEN) {
        if (q->size != 2) return fail(EINVAL);
        q->data[0] = (uint8_t)(XU_LEN & 0xff);
        q->data[1] = (uint8_t)(XU_LEN >> 8);
      } else if (q->query == UVC_SET_CUR || q->query == UVC_GET_CUR) {
        if (q->size != XU_LEN) {
          logline("UVCIOC_CTRL_QUERY unit=%u selector=%u query=0x%x size=%u EINVAL", q->unit, q->selector, q->query, q->size);
          return fail(EINVAL);
        }
        if (q->query == UVC_SET_CUR) memcpy(xu_value, q->data, XU_LEN);
        else memcpy(q->data, xu_value, XU_LEN);
        for (unsigned k = 0; k < XU_LEN; k++) sprintf(hex + 2 * k, "%02x", q->data[k]);
      } else {
        return fail(EINVAL);
      }
      logline("UVCIOC_CTRL_QUERY unit=%u selector=%u query=0x%x size=%u %s", q->unit, q->selector, q->query, q->size, hex);
      return 0;
    }
    default:
      logline("ioctl 0x%lx ENOTTY", req);
      return fail(ENOTTY);
  }
}

static int is_fake_path(const char *path) { return path && strcmp(path, fake_path) == 0; }

static int fake_open(int flags) {
  pthread_mutex_lock(&lock);
  int r;
  if (open_errno) {
    logline("open %s %s", fake_path, strerror(open_errno));
    r = fail(open_errno);
  } else if (fake_fd >= 0) {
    logline("open %s EBUSY", fake_path);
    r = fail(EBUSY);
  } else {
    // A real descriptor, so fd numbers stay unique and close/fcntl/fstat behave; /dev/null is a char device.
    r = real_open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
    if (r >= 0) {
      fake_fd = r;
      logline("open %s%s", fake_path, (flags & O_NONBLOCK) ? " O_NONBLOCK" : "");
    }
  }
  pthread_mutex_unlock(&lock);
  return r;
}

static int get_mode(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  if (is_fake_path(path)) return fake_open(flags);
  va_list ap;
  va_start(ap, flags);
  int mode = get_mode(flags, ap);
  va_end(ap);
  return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...) {
  if (is_fake_path(path)) return fake_open(flags);
  va_list ap;
  va_start(ap, flags);
  int mode = get_mode(flags, ap);
  va_end(ap);
  return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open(path, flags); }

int close(int fd) {
  if (fd >= 0 && fd == fake_fd) {
    pthread_mutex_lock(&lock);
    streaming = 0;
    free_buffers();
    fake_fd = -1;
    logline("close");
    pthread_mutex_unlock(&lock);
  }
  return real_close(fd);
}

int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (fd < 0 || fd != fake_fd) return real_ioctl(fd, req, arg);
  pthread_mutex_lock(&lock);
  int r = fake_ioctl(req, arg);
  int e = errno;
  pthread_mutex_unlock(&lock);
  errno = e;
  return r;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (fd < 0 || fd != fake_fd) return real_mmap(addr, len, prot, flags, fd, off);
  pthread_mutex_lock(&lock);
  void *r = MAP_FAILED;
  long i = off / OFFSET_STEP;
  if (off % OFFSET_STEP == 0 && i >= 0 && i < nbufs && len <= bufs[i].length && !bufs[i].mapped) {
    bufs[i].mapped = 1;
    r = bufs[i].mem;
    logline("mmap %ld", i);
  } else {
    logline("mmap offset=0x%lx len=%zu EINVAL", (long)off, len);
    errno = EINVAL;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __attribute__((alias("mmap")));

int munmap(void *addr, size_t len) {
  if (any_buffers) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nbufs; i++) {
      if (bufs[i].mem == addr && bufs[i].mapped) {
        bufs[i].mapped = 0;
        logline("munmap %d", i);
        pthread_mutex_unlock(&lock);
        return 0; // the memory itself is freed at REQBUFS(0) or close, like the driver's
      }
    }
    pthread_mutex_unlock(&lock);
  }
  return real_munmap(addr, len);
}

// glibc declares poll's array write-only, but callers do fill in fd and events.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
int poll(struct pollfd *fds, nfds_t n, int timeout) {
  int k = -1;
  if (fake_fd >= 0) {
    for (nfds_t i = 0; i < n; i++)
      if (fds[i].fd == fake_fd) k = (int)i;
  }
  if (k < 0) return real_poll(fds, n, timeout);
  double deadline = timeout < 0 ? -1 : now_ms() + timeout;
  int saved = fds[k].fd;
  for (;;) {
    pthread_mutex_lock(&lock);
    int ready = frame_ready();
    int broken = !streaming;
    double wait = streaming && qlen > 0 && !stalled() ? frame_due() - now_ms() : -1;
    pthread_mutex_unlock(&lock);
    fds[k].fd = -1; // real poll() ignores negative fds and sets their revents to 0
    if (ready || broken) {
      int r = real_poll(fds, n, 0);
      fds[k].fd = saved;
      fds[k].revents = broken ? POLLERR : (short)(POLLIN | POLLRDNORM);
      return r < 0 ? r : r + 1;
    }
    double left = deadline < 0 ? -1 : deadline - now_ms();
    if (deadline >= 0 && left < 0) left = 0;
    int t;
    if (wait < 0) t = left < 0 ? -1 : (int)left;
    else t = (int)((left >= 0 && left < wait ? left : wait) + 0.999);
    int r = real_poll(fds, n, t);
    fds[k].fd = saved;
    fds[k].revents = 0;
    if (r != 0) return r;
    if (deadline >= 0 && now_ms() >= deadline) {
      pthread_mutex_lock(&lock);
      int now_ready = frame_ready();
      pthread_mutex_unlock(&lock);
      if (!now_ready) return 0;
    }
  }
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen) {
  (void)fdslen;
  return poll(fds, n, timeout);
}

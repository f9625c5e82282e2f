{
  "targets": [
    {
      "target_name": "v4l2",
      "sources": ["v4l2.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-std=c11", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}

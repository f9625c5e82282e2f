{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["peercred.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-std=c11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}

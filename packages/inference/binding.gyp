{
  # The int8 exact-search scan (native/duet_scan.c). Kernels for AVX2 and AVX-512 VNNI are compiled with per-function
  # target attributes and chosen at run time (__builtin_cpu_supports), so the baseline flags stay portable.
  "targets": [
    {
      "target_name": "duet_scan",
      "sources": ["native/duet_scan.c"],
      "cflags": ["-O3", "-Wall", "-ffp-contract=off"],
      "libraries": ["-lpthread", "-lm"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-ffp-contract=off"] }
    }
  ]
}

{
  "targets": [
    {
      "target_name": "nbox",
      "sources": ["native/addon.cc", "native/child.c", "native/inroot.c", "native/netlink.c", "native/nft-ports.c", "native/proc-stat.c", "native/spawnfds.c", "native/tree.c", "native/wire.c", "native/seccomp.cc"],
      "libraries": ["-lseccomp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-fstack-protector-strong", "-fvisibility=hidden"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=c++17"]
    },
    {
      "target_name": "nbox-exec",
      "type": "executable",
      "sources": ["native/exec-helper.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Os", "-ffreestanding", "-fno-stack-protector", "-fno-tree-loop-distribute-patterns", "-fno-asynchronous-unwind-tables", "-U_FORTIFY_SOURCE"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-static", "-nostdlib", "-no-pie", "-s"]
    },
    {
      "target_name": "nbox-monitor",
      "type": "executable",
      "sources": ["native/monitor.c", "native/child.c", "native/netlink.c", "native/wire.c", "native/jsonw.c", "native/logfile.c", "native/proc-stat.c", "native/spawnfds.c", "native/tree.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Os", "-fstack-protector-strong"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-static", "-s"]
    },
    {
      "target_name": "nbox-ryuk",
      "type": "executable",
      "sources": ["native/ryuk.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Os", "-fstack-protector-strong"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-static", "-s"]
    },
    {
      "target_name": "nbox-proxy",
      "type": "executable",
      "sources": ["native/proxy.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Os", "-fstack-protector-strong"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-static", "-s"]
    },
    {
      "target_name": "nbox-reaper",
      "type": "executable",
      "sources": ["native/reaper.c", "native/proc-stat.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Os", "-fstack-protector-strong"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-static", "-s"]
    }
  ]
}

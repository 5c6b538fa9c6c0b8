#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up a fresh Debian 12 machine, builds smartasync-glib and runs every
# test: the C suites, the same suites under valgrind memcheck, and the
# benchmarks' smoke runs. Prints "N passed, N failed" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

builddir=${BUILDDIR:-build}
if [ -d "$builddir" ]; then
  meson setup --reconfigure "$builddir" >/dev/null
else
  meson setup "$builddir" >/dev/null
fi
meson compile -C "$builddir"

status=0
meson test -C "$builddir" --print-errorlogs || status=1
cp "$builddir/meson-logs/testlog.json" "$builddir/meson-logs/testlog-plain.json"
meson test -C "$builddir" --setup valgrind --print-errorlogs || status=1

python3 - "$builddir" <<'PY'
import json, sys, os
passed = failed = 0
for name in ("testlog-plain.json", "testlog-valgrind.json"):
    path = os.path.join(sys.argv[1], "meson-logs", name)
    if not os.path.exists(path):
        continue
    for line in open(path):
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result != "SKIP":
            failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $status

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up a fresh Debian 12 machine, builds smartasync-glib and runs every
# test: the C suites, the lint checks, the same C suites under valgrind
# memcheck, the benchmarks' smoke runs, and then tools/check-install.sh (an
# install into a temporary DESTDIR, a consumer program built from the installed
# .pc file, and the installed tests under gnome-desktop-testing-runner), which
# counts as one more test. Prints "N passed, N failed" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

builddir=${BUILDDIR:-build}
if [ -d "$builddir" ]; then
  meson setup --reconfigure -Dinstalled_tests=true "$builddir" >/dev/null
else
  meson setup -Dinstalled_tests=true "$builddir" >/dev/null
fi
meson compile -C "$builddir"

status=0
meson test -C "$builddir" --print-errorlogs || status=1
cp "$builddir/meson-logs/testlog.json" "$builddir/meson-logs/testlog-plain.json"
meson test -C "$builddir" --setup valgrind --print-errorlogs || status=1

install_check=0
bash tools/check-install.sh "$builddir" || { install_check=1; status=1; }

python3 - "$builddir" "$install_check" <<'PY'
import json, sys, os
passed = failed = 0
# tools/check-install.sh counts as one test.
if sys.argv[2] == "0":
    passed += 1
else:
    failed += 1
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

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up a fresh Debian 12 machine, builds smartasync-glib (with the API
# reference) and runs every test: the whole meson suite (C, lint, bindings,
# examples, docs, benchmarks' smoke runs), the C suites again under valgrind
# memcheck, then the checks that need builds of their own, each counted as
# one test: the install check (tools/check-install.sh), the sanitizers and
# fuzzing (tools/ci-sanitizers.sh), and static analysis and coverage
# (tools/ci-analysis.sh). Prints "N passed, N failed" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

builddir=${BUILDDIR:-build}
options=(-Dinstalled_tests=true -Ddocs=enabled)
if [ -d "$builddir" ]; then
  meson setup --reconfigure "${options[@]}" "$builddir" >/dev/null
else
  meson setup "${options[@]}" "$builddir" >/dev/null
fi
meson compile -C "$builddir"

status=0
meson test -C "$builddir" --print-errorlogs || status=1
cp "$builddir/meson-logs/testlog.json" "$builddir/meson-logs/testlog-plain.json"
meson test -C "$builddir" --setup valgrind --print-errorlogs || status=1

steps_passed=0
steps_failed=0
step () {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    steps_passed=$((steps_passed + 1))
  else
    echo "== $name: FAILED"
    steps_failed=$((steps_failed + 1))
    status=1
  fi
}

step "install check" bash tools/check-install.sh "$builddir"
[ ! -f tools/ci-sanitizers.sh ] || step "sanitizers and fuzzing" bash tools/ci-sanitizers.sh
step "static analysis and coverage" bash tools/ci-analysis.sh

python3 - "$builddir" "$steps_passed" "$steps_failed" <<'PY'
import json, sys, os
passed, failed = int(sys.argv[2]), int(sys.argv[3])
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

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up a fresh Debian 12 machine, builds smartasync-glib (with the API
# reference, with gcc and -Dwerror=true: every target, docs included, builds
# without a warning) and runs every test: the whole meson suite (C, lint,
# bindings, examples, docs, benchmarks' smoke runs), the C suites again under
# valgrind memcheck, then the checks that need builds of their own, each
# counted as one test: the install check (tools/check-install.sh), the
# packaging checks (tools/ci-packaging.sh: reuse lint, a
# -Ddefault_library=both build, meson dist), the sanitizers and fuzzing
# (tools/ci-sanitizers.sh), and static analysis and coverage
# (tools/ci-analysis.sh: clang -Dwerror=true with the docs, scan-build,
# coverage). Prints "N passed, N failed" at the end, with the time each part
# took and where the logs are.
set -euo pipefail
cd "$(dirname "$0")/.."

start_all=$(date +%s)
echo "run-tests: checking the Debian packages (tools/install-deps.sh)"
bash tools/install-deps.sh all

builddir=${BUILDDIR:-build}
options=(-Dinstalled_tests=true -Ddocs=enabled -Dwerror=true)
echo "run-tests: configuring $builddir (${options[*]})"
if [ -d "$builddir" ]; then
  meson setup --reconfigure "${options[@]}" "$builddir" >/dev/null
else
  meson setup "${options[@]}" "$builddir" >/dev/null
fi
echo "run-tests: building"
meson compile -C "$builddir"

timings=()
timed () {
  # timed NAME COMMAND...: runs it, records how long it took; its status.
  local name=$1 start rc=0
  shift
  start=$(date +%s)
  "$@" || rc=$?
  timings+=("$(printf '%5d s  %s' $(( $(date +%s) - start )) "$name")")
  return $rc
}

status=0
echo "run-tests: the meson suite"
timed "meson test" meson test -C "$builddir" --print-errorlogs || status=1
cp "$builddir/meson-logs/testlog.json" "$builddir/meson-logs/testlog-plain.json"
echo "run-tests: the C suites under valgrind"
timed "meson test --setup valgrind" meson test -C "$builddir" --setup valgrind --print-errorlogs \
  || status=1

steps_passed=0
steps_failed=0
step () {
  local name=$1
  shift
  echo "== $name"
  if timed "$name" "$@"; then
    steps_passed=$((steps_passed + 1))
  else
    echo "== $name: FAILED"
    steps_failed=$((steps_failed + 1))
    status=1
  fi
}

step "install check" bash tools/check-install.sh "$builddir"
step "reuse lint" bash tools/ci-packaging.sh reuse
step "default_library=both build" bash tools/ci-packaging.sh both
step "meson dist" bash tools/ci-packaging.sh dist
[ ! -f tools/ci-sanitizers.sh ] || step "sanitizers and fuzzing" bash tools/ci-sanitizers.sh
step "static analysis and coverage" bash tools/ci-analysis.sh

echo
echo "run-tests: time per part (total $(( $(date +%s) - start_all )) s)"
printf '%s\n' "${timings[@]}"
echo "run-tests: logs: $builddir/meson-logs/ (testlog-plain.json, testlog-valgrind.txt),"
echo "  _ci-dist.log, _fuzz/fuzz-*.log, _asan/meson-logs/, _ci-*.setup.log"
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

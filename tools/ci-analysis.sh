#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Static checks that need their own builds, run by tools/run-tests.sh:
#  1. clang with -Dwerror=true, the docs' programs included (gcc's strict
#     build is the main one, in tools/run-tests.sh);
#  2. scan-build (clang's static analyzer) on the library and its tests,
#     failing on any report;
#  3. a coverage build: the C suites, then the line coverage of the library
#     (gcovr), which must stay at or above COVERAGE_MIN percent.
set -euo pipefail
cd "$(dirname "$0")/.."

COVERAGE_MIN=${COVERAGE_MIN:-90}
common=(-Ddocs=disabled -Dvapi=disabled)

started=$(date +%s)
took () { echo "   ($(( $(date +%s) - started )) s)"; started=$(date +%s); }

# Every target -Ddocs=enabled adds (the guides' programs) is built too; gcc's
# strict build is the main one (tools/run-tests.sh), which also builds the
# Vala bindings.
echo "== clang -Dwerror=true, docs included"
rm -rf _ci-clang
CC=clang meson setup _ci-clang -Dwerror=true -Ddocs=enabled -Dvapi=disabled >/dev/null
meson compile -C _ci-clang >/dev/null
took

echo "== scan-build"
rm -rf _ci-scan
meson setup _ci-scan -Dintrospection=disabled -Dexamples=false "${common[@]}" >/dev/null
report=$(ninja -C _ci-scan scan-build 2>&1)
# Every report is fatal, in the library, the tests and the examples alike: a
# false positive is silenced where it is, in the code, not filtered here.
bugs=$(grep -E "warning:" <<<"$report" | sort -u || true)
if [ -n "$bugs" ]; then
  printf 'scan-build found bugs:\n%s\n' "$bugs"
  exit 1
fi
echo "scan-build: no report"
took

echo "== coverage"
rm -rf _ci-cov
meson setup _ci-cov -Db_coverage=true -Dintrospection=disabled "${common[@]}" >/dev/null
meson compile -C _ci-cov >/dev/null
meson test -C _ci-cov --suite c --suite examples --no-suite no-valgrind >/dev/null
summary=$(cd _ci-cov && gcovr -r .. --filter '\.\./smartasync-glib/' --object-directory . .)
echo "$summary" | tail -n +4
percent=$(awk '/^TOTAL/ { sub("%", "", $4); print $4 }' <<<"$summary")
echo "library line coverage: ${percent}% (minimum ${COVERAGE_MIN}%)"
took
[ "${percent%.*}" -ge "$COVERAGE_MIN" ]

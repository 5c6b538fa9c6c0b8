#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/ci-sanitizers.sh: the sanitizer and fuzzing pass (doc/guarantees.md).
#
#   1. AddressSanitizer + UndefinedBehaviorSanitizer: builds into _asan
#      (-Db_sanitize=address,undefined -Db_lundef=false
#      -Dintrospection=disabled) with the default compiler and runs every C
#      suite except no-valgrind (timing runs, Python, GJS, lint) with
#      sanitizer errors and leaks fatal.
#   2. The API fuzzer: builds tests/reliability/fuzz/fuzz-api with clang and
#      libFuzzer into _fuzz (ASan, UBSan, LeakSanitizer, coverage of the
#      library too), replays the corpus in tests/reliability/fuzz/corpus,
#      then fuzzes for FUZZ_SECONDS (default 60) from it. New inputs go to a
#      temporary directory, not into the repository; a crash, a hang, a leak
#      or a broken invariant stops it and leaves the input in
#      _fuzz/artifacts/ (replay it: _fuzz/tests/reliability/fuzz/fuzz-api FILE,
#      or build/tests/reliability/fuzz-api-replay FILE).
#
# ThreadSanitizer is not run: GLib is not built with it, so its mutexes
# (futex-based), atomics and GTask/GMainContext locking are invisible and
# every cross-thread hand-over through GLib is reported as a race (see
# doc/guarantees.md, "Tools").
#
# Environment: ASAN_BUILDDIR (default _asan), FUZZ_BUILDDIR (default _fuzz),
# FUZZ_SECONDS (default 60; 0 replays the corpus only), CC (for step 1),
# SKIP_FUZZ=1 to run step 1 only.
#
# Needs: meson, ninja, gcc (or $CC) with libasan/libubsan, and for step 2
# clang with libclang-rt-14-dev (libFuzzer). Exits non-zero if any step fails.
set -uo pipefail
cd "$(dirname "$0")/.."

asan_dir=${ASAN_BUILDDIR:-_asan}
fuzz_dir=${FUZZ_BUILDDIR:-_fuzz}
fuzz_seconds=${FUZZ_SECONDS:-60}
corpus=tests/reliability/fuzz/corpus

# Sanitizer errors and leaks abort the test (and fail it); stack traces for
# every report. GLib's slice allocator is bypassed so that ASan sees every
# block.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_stack_use_after_return=1:strict_init_order=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly

status=0
summary=()

now () { date +%s; }

step () {
  echo
  echo "=== ci-sanitizers: $*"
}

record () {
  # record NAME STATUS START
  local took=$(( $(now) - $3 ))
  if [ "$2" -eq 0 ]; then
    summary+=("ok      $1 (${took} s)")
  else
    summary+=("FAILED  $1 (${took} s)")
    status=1
  fi
}

setup () {
  # setup DIR [meson options...]
  local dir=$1
  shift
  if [ -f "$dir/meson-private/coredata.dat" ]; then
    meson setup --reconfigure "$@" "$dir" >"$dir.setup.log" 2>&1
  else
    meson setup "$@" "$dir" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log" >&2; return 1; }
}

# 1. ASan + UBSan over the C suites

step "ASan+UBSan build in $asan_dir"
t=$(now)
setup "$asan_dir" -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled \
  && meson compile -C "$asan_dir" >"$asan_dir.compile.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 40 "$asan_dir.compile.log" >&2
record "ASan+UBSan build" $rc "$t"

if [ $rc -eq 0 ]; then
  step "C suites under ASan+UBSan (no-valgrind suite excluded)"
  t=$(now)
  meson test -C "$asan_dir" --suite c --no-suite no-valgrind --print-errorlogs \
    --timeout-multiplier 3
  record "C suites under ASan+UBSan" $? "$t"
fi

# 2. libFuzzer

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "libFuzzer build (clang) in $fuzz_dir"
  t=$(now)
  if ! command -v clang >/dev/null; then
    echo "clang not found (Debian: clang, libclang-rt-14-dev)" >&2
    record "libFuzzer build" 1 "$t"
  else
    CC=clang setup "$fuzz_dir" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dintrospection=disabled -Dexamples=false -Dc_args=-fsanitize=fuzzer-no-link \
      && meson compile -C "$fuzz_dir" tests/reliability/fuzz-api >"$fuzz_dir.compile.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || tail -n 40 "$fuzz_dir.compile.log" >&2
    fuzzer=$fuzz_dir/tests/reliability/fuzz-api
    if [ $rc -eq 0 ] && [ ! -x "$fuzzer" ]; then
      echo "$fuzzer was not built: is libFuzzer (libclang-rt-14-dev) installed?" >&2
      rc=1
    fi
    record "libFuzzer build" $rc "$t"

    if [ $rc -eq 0 ]; then
      mkdir -p "$fuzz_dir/artifacts"
      fuzz_opts=(-artifact_prefix="$fuzz_dir/artifacts/" -timeout=60 -rss_limit_mb=4096
                 -detect_leaks=1 -print_final_stats=1)

      step "fuzz-api: replaying the corpus ($(ls "$corpus" | wc -l) inputs)"
      t=$(now)
      "$fuzzer" "${fuzz_opts[@]}" -runs=0 "$corpus"
      record "fuzz-api corpus replay" $? "$t"

      if [ "$fuzz_seconds" -gt 0 ]; then
        step "fuzz-api: fuzzing for $fuzz_seconds s"
        work=$(mktemp -d "${TMPDIR:-/tmp}/smartasync-fuzz.XXXXXX")
        t=$(now)
        "$fuzzer" "${fuzz_opts[@]}" -max_total_time="$fuzz_seconds" -max_len=512 \
          "$work" "$corpus"
        rc=$?
        echo "fuzz-api: $(ls "$work" | wc -l) new inputs in $work"
        record "fuzz-api ${fuzz_seconds} s" $rc "$t"
        [ $rc -ne 0 ] || rm -rf "$work"
      fi
    fi
  fi
fi

echo
echo "=== ci-sanitizers: summary"
printf '%s\n' "${summary[@]}"
exit $status

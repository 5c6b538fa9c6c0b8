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
#   3. ThreadSanitizer, only with WITH_TSAN=1: against the system GLib it
#      reports every hand-over through GLib as a race (GLib's futex mutexes
#      and atomics are not instrumented), so this step first builds GLib
#      itself with -fsanitize=thread (the Debian source of the installed
#      version, `apt-get source glib2.0`, which needs a deb-src line; or
#      TSAN_GLIB_SOURCE=DIR; about 1.5 minutes on 2 cores, kept in
#      $TSAN_GLIB_DIR, default _tsan-glib), builds the project with clang
#      into _tsan and runs the C unit, stress and reliability tests against
#      that GLib, with the GLib-internal races of tests/reliability/tsan.supp
#      suppressed (top frame in GLib only). See doc/guarantees.md, "Tools".
#
# Environment: ASAN_BUILDDIR (default _asan), FUZZ_BUILDDIR (default _fuzz),
# SMARTASYNC_RACE_CALLS (test-cancel-races' calls under ASan, default 50000),
# FUZZ_SECONDS (default 60; 0 replays the corpus only), CC (for step 1),
# SKIP_FUZZ=1 to skip step 2, WITH_TSAN=1 (step 3), TSAN_BUILDDIR (default
# _tsan), TSAN_GLIB_DIR, TSAN_GLIB_SOURCE.
#
# Needs: meson, ninja, gcc (or $CC) with libasan/libubsan, and for steps 2
# and 3 clang with libclang-rt-14-dev (libFuzzer, TSan runtime). Exits
# non-zero if any step fails.
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
export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0:suppressions=$PWD/tests/reliability/lsan.supp}
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
  # test-cancel-races at 5x its normal size (4-6 s under ASan on 2
  # cores): the races it looks for show with a sanitizer's timing.
  SMARTASYNC_RACE_CALLS=${SMARTASYNC_RACE_CALLS:-50000} \
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

      # libFuzzer's progress lines go to log files; a failure shows the end
      # of its log, and the summary says where the logs are.
      replay_log=$fuzz_dir/fuzz-replay.log
      step "fuzz-api: replaying the corpus ($(ls "$corpus" | wc -l) inputs), log in $replay_log"
      t=$(now)
      "$fuzzer" "${fuzz_opts[@]}" -runs=0 "$corpus" >"$replay_log" 2>&1
      rc=$?
      [ $rc -eq 0 ] || tail -n 60 "$replay_log" >&2
      record "fuzz-api corpus replay (log: $replay_log)" $rc "$t"

      if [ "$fuzz_seconds" -gt 0 ]; then
        fuzz_log=$fuzz_dir/fuzz-run.log
        step "fuzz-api: fuzzing for $fuzz_seconds s, log in $fuzz_log"
        work=$(mktemp -d "${TMPDIR:-/tmp}/smartasync-fuzz.XXXXXX")
        t=$(now)
        # Full stacks for leak reports (GLib has no frame pointers).
        ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0:malloc_context_size=30" \
        "$fuzzer" "${fuzz_opts[@]}" -max_total_time="$fuzz_seconds" -max_len=512 -len_control=0 \
          "$work" "$corpus" >"$fuzz_log" 2>&1
        rc=$?
        [ $rc -eq 0 ] || tail -n 60 "$fuzz_log" >&2
        # The final stats (-print_final_stats=1): runs, coverage, peak RSS.
        grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)" "$fuzz_log" \
          | sed 's/^/fuzz-api: /' || true
        echo "fuzz-api: $(ls "$work" | wc -l) new inputs in $work"
        record "fuzz-api ${fuzz_seconds} s (log: $fuzz_log)" $rc "$t"
        [ $rc -ne 0 ] || rm -rf "$work"
      fi
    fi
  fi
fi

# 3. ThreadSanitizer, with a ThreadSanitizer-built GLib

if [ "${WITH_TSAN:-0}" = 1 ]; then
  tsan_dir=${TSAN_BUILDDIR:-_tsan}
  glib_dir=${TSAN_GLIB_DIR:-_tsan-glib}
  glib_build=$glib_dir/build

  step "ThreadSanitizer GLib in $glib_build"
  t=$(now)
  rc=0
  if [ ! -f "$glib_build/glib/libglib-2.0.so.0" ]; then
    src=${TSAN_GLIB_SOURCE:-}
    if [ -z "$src" ]; then
      version=$(pkg-config --modversion glib-2.0)
      src=$glib_dir/glib-$version
      if [ ! -f "$src/meson.build" ]; then
        mkdir -p "$glib_dir"
        ( cd "$glib_dir" && apt-get source --download-only -qq glib2.0 ) \
          && tar -C "$glib_dir" -xf "$glib_dir"/glib2.0_"$version".orig.tar.xz \
          || { echo "could not get GLib's source: add a deb-src line for bookworm, or set TSAN_GLIB_SOURCE" >&2; rc=1; }
      fi
    fi
    if [ $rc -eq 0 ]; then
      CC=clang meson setup "$glib_build" "$src" -Db_sanitize=thread -Db_lundef=false \
          -Dtests=false -Dinstalled_tests=false -Dman=false -Dgtk_doc=false \
          -Dlibmount=disabled -Dselinux=disabled -Dxattr=false -Dnls=disabled \
          -Dlibelf=disabled -Dsysprof=disabled -Ddtrace=false -Dsystemtap=false \
          -Dglib_debug=disabled >"$glib_dir.setup.log" 2>&1 \
        && ninja -C "$glib_build" >"$glib_dir.compile.log" 2>&1 \
        || { tail -n 40 "$glib_dir".*.log >&2; rc=1; }
    fi
  fi
  record "ThreadSanitizer GLib" $rc "$t"

  if [ $rc -eq 0 ]; then
    step "ThreadSanitizer build in $tsan_dir"
    t=$(now)
    CC=clang setup "$tsan_dir" -Db_sanitize=thread -Db_lundef=false -Dintrospection=disabled \
        -Dexamples=false \
      && meson compile -C "$tsan_dir" >"$tsan_dir.compile.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || tail -n 40 "$tsan_dir.compile.log" >&2
    record "ThreadSanitizer build" $rc "$t"
  fi

  if [ $rc -eq 0 ]; then
    step "C tests under ThreadSanitizer (GLib built with it)"
    t=$(now)
    gb=$(cd "$glib_build" && pwd)
    # test-stress-big is left out (about 2 minutes under TSan); test-stress
    # runs 8 threads x 10 000 calls and its memory round.
    LD_LIBRARY_PATH=$gb/glib:$gb/gobject:$gb/gio:$gb/gmodule:$gb/gthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/reliability/tsan.supp" \
      meson test -C "$tsan_dir" --print-errorlogs --timeout-multiplier 4 \
        test-context test-waiter test-operation test-lock test-await test-batch \
        test-stress test-faults fuzz-api-replay
    record "C tests under ThreadSanitizer" $? "$t"
  fi
fi

echo
echo "=== ci-sanitizers: summary (build logs: $asan_dir.*.log, $fuzz_dir.*.log; test logs: $asan_dir/meson-logs/)"
printf '%s\n' "${summary[@]}"
exit $status

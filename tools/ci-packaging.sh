#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/ci-packaging.sh CHECK: what a distribution packager checks, one check
# per call (tools/run-tests.sh counts each as one test):
#
#   reuse  `reuse lint`: every file has its license and copyright (an SPDX
#          header, or the .reuse/dep5 entry; Debian 12's reuse 1.1 reads
#          .reuse/dep5, not REUSE.toml).
#   both   a -Ddefault_library=both build (_ci-both): the static library is
#          built beside the shared one, and a program linked against
#          libsmartasync-glib-1.0.a alone runs a real wait. Library only: no
#          tests, examples, introspection or docs, which the main build has.
#   dist   `meson dist` from a lean build directory (_ci-dist, without the
#          API reference and the Vala bindings, which the main build checks):
#          the tarball holds everything needed to build, and its own build
#          passes its whole test suite. The tarball is made from the last
#          commit (uncommitted changes are left out, and said so).
set -euo pipefail
cd "$(dirname "$0")/.."

check=${1:-}

setup () {
  # setup DIR [meson options...]: a fresh build directory, quietly.
  local dir=$1
  shift
  rm -rf "$dir"
  meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log" >&2; return 1; }
}

case "$check" in
  reuse)
    if ! command -v reuse >/dev/null; then
      echo "reuse not found (Debian package: reuse; tools/install-deps.sh installs it)" >&2
      exit 1
    fi
    # The summary only; the whole report when something is missing.
    report=$(reuse lint 2>&1) || { echo "$report"; exit 1; }
    grep -E "^\* (Files with|Used licenses)" <<<"$report"
    ;;

  both)
    echo "ci-packaging: -Ddefault_library=both build in _ci-both"
    setup _ci-both -Ddefault_library=both -Dtests=false -Dexamples=false \
      -Dintrospection=disabled -Ddocs=disabled -Dvapi=disabled
    meson compile -C _ci-both >_ci-both.compile.log 2>&1 \
      || { tail -n 40 _ci-both.compile.log >&2; exit 1; }
    lib=_ci-both/smartasync-glib/libsmartasync-glib-1.0
    [ -f "$lib.a" ] || { echo "$lib.a was not built" >&2; exit 1; }
    ls "$lib".so.* >/dev/null || { echo "$lib.so.* was not built" >&2; exit 1; }
    # The uninstalled .pc file gives the source and generated headers.
    cflags=$(PKG_CONFIG_PATH=_ci-both/meson-uninstalled \
             pkg-config --cflags smartasync-glib-1.0-uninstalled)
    cat >_ci-both/static-consumer.c <<'C'
#include <smartasync-glib.h>

/* Statically linked: one real wait on a GIO call, no shared library. */
int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (argv[0]);
  g_autoptr(GAsyncResult) res =
    SMARTASYNC_WAIT (&error, NULL, g_file_query_info_async, file,
                     G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                     G_PRIORITY_DEFAULT, NULL);
  g_autoptr(GFileInfo) info = NULL;

  if (res != NULL)
    info = g_file_query_info_finish (file, res, &error);
  if (info == NULL)
    {
      g_printerr ("static consumer: %s\n", error->message);
      return 1;
    }
  g_print ("static consumer: smartasync-glib %s, waited for a %" G_GOFFSET_FORMAT
           "-byte file's size\n", SMARTASYNC_VERSION_S, g_file_info_get_size (info));
  return 0;
}
C
    # shellcheck disable=SC2086
    ${CC:-cc} -Wall -Werror $cflags -o _ci-both/static-consumer _ci-both/static-consumer.c \
      "$lib.a" $(pkg-config --libs gio-2.0) -pthread
    if ldd _ci-both/static-consumer | grep -q libsmartasync; then
      echo "the static consumer loads the shared library" >&2
      exit 1
    fi
    _ci-both/static-consumer
    ;;

  dist)
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
      echo "ci-packaging: uncommitted changes are not in the tarball (made from HEAD)"
    fi
    echo "ci-packaging: meson dist from _ci-dist (builds the tarball and runs its tests)"
    setup _ci-dist -Ddocs=disabled -Dvapi=disabled
    if ! meson dist -C _ci-dist --allow-dirty >_ci-dist.log 2>&1; then
      tail -n 60 _ci-dist.log >&2
      echo "meson dist failed; whole log: _ci-dist.log" >&2
      exit 1
    fi
    grep -E "^(Ok|Fail|Skipped|Timeout):" _ci-dist.log | tr -s ' ' | paste -sd ' ' -
    ls -l _ci-dist/meson-dist/
    ;;

  *)
    echo "usage: $0 reuse|both|dist" >&2
    exit 2
    ;;
esac

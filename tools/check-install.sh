#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/check-install.sh [BUILDDIR]
#
# Checks the installed library as a consumer sees it, without touching the
# system: installs BUILDDIR (default: $BUILDDIR or build) into a temporary
# DESTDIR, then
#   1. checks that no private header was installed;
#   2. builds a tiny C program against the installed smartasync-glib-1.0.pc
#      (found through PKG_CONFIG_PATH in the DESTDIR) with -Wall -Werror, and
#      runs it against the installed library (LD_LIBRARY_PATH);
#   3. loads the installed typelib from Python, when introspection was built
#      and python3-gi is available, then the installed PyGObject override
#      (PYTHONPATH as the README's "Install" section says) and the installed
#      GJS module (imported by its path);
#   4. runs the installed tests with gnome-desktop-testing-runner when the
#      build has -Dinstalled_tests=true.
# Exits non-zero if any step fails. Needs: meson, pkg-config, a C compiler
# ($CC, default cc), and for step 4 gnome-desktop-testing (Debian package).
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${1:-${BUILDDIR:-build}}
package=smartasync-glib-1.0
python=/usr/bin/python3
[ -x "$python" ] || python=python3

if [ ! -f "$builddir/meson-private/coredata.dat" ]; then
  echo "check-install: $builddir is not a configured meson build directory" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smartasync-check-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
destdir=$tmp/destdir

step() { echo "check-install: $*"; }
fail() { echo "check-install: FAILED: $*" >&2; exit 1; }

# The build's directories, as `meson install` will use them.
eval "$(meson introspect "$builddir" --buildoptions | "$python" -c '
import json, os, shlex, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
prefix = opts["prefix"]
def full(d):
    return os.path.normpath(os.path.join(prefix, opts[d]))
print("prefix=%s" % shlex.quote(prefix))
for d in ("libdir", "includedir", "libexecdir", "datadir"):
    print("%s=%s" % (d, shlex.quote(full(d))))
print("installed_tests=%s" % ("true" if opts.get("installed_tests") else "false"))
')"

step "installing $builddir into $destdir"
meson install -C "$builddir" --destdir "$destdir" --quiet >"$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log" >&2; fail "meson install"; }

root=$destdir$prefix
pcfile=$destdir$libdir/pkgconfig/$package.pc
[ -f "$pcfile" ] || fail "$package.pc not installed in $libdir/pkgconfig"
[ -f "$destdir$includedir/$package/smartasync-glib.h" ] \
  || fail "smartasync-glib.h not installed in $includedir/$package"

# 1. Private headers stay private.
private=$(find "$destdir" -name '*-private.h' | sed "s|^$destdir||")
[ -z "$private" ] || fail "private headers installed: $private"
step "no private header installed"

# 2. A consumer built from the installed .pc file.
#
# The .pc file names the real prefix; it is relocated into the DESTDIR here.
# `pkg-config --define-prefix` cannot do it on Debian: it derives the prefix as
# the .pc directory's grandparent, which is wrong for the multiarch libdir
# (lib/x86_64-linux-gnu/pkgconfig), and it relocates every .pc file it reads
# (gio-2.0's too, which breaks its flags). So the check copies the .pc file,
# points its prefix= into the DESTDIR, and first checks that every other path
# in it derives from ${prefix}, which is what makes the file relocatable.
if grep -vE '^(prefix=|#|$)' "$pcfile" | grep -F "$prefix" >/dev/null; then
  grep -nF "$prefix" "$pcfile" >&2
  fail "$package.pc hard-codes $prefix instead of using \${prefix}"
fi
mkdir -p "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$root|" "$pcfile" >"$tmp/pkgconfig/$package.pc"
export PKG_CONFIG_PATH=$tmp/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pkg-config --print-errors --exists "$package" || fail "pkg-config cannot resolve $package"
cflags=$(pkg-config --cflags "$package")
libs=$(pkg-config --libs "$package")
case " $cflags " in *" -I$destdir$includedir/$package "*) ;; *)
  fail "pkg-config --cflags does not point into the DESTDIR: $cflags" ;;
esac
step "pkg-config $package $(pkg-config --modversion "$package"): $cflags $libs"

cat >"$tmp/consumer.c" <<'C'
/* A consumer of the installed library: headers, pkg-config, linking, and one
 * real synchronous wait on a GIO async call. */
#include <smartasync-glib.h>

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autofree char *contents = NULL;
  const char *mismatch;
  gsize length = 0;

  mismatch = smartasync_check_version (SMARTASYNC_MAJOR_VERSION,
                                       SMARTASYNC_MINOR_VERSION,
                                       SMARTASYNC_MICRO_VERSION);
  if (mismatch != NULL)
    {
      g_printerr ("version mismatch: %s\n", mismatch);
      return 1;
    }
  if (smartasync_in_async_context ())
    {
      g_printerr ("main () is not in an async context\n");
      return 1;
    }
  if (argc != 2)
    return 2;

  file = g_file_new_for_path (argv[1]);
  res = SMARTASYNC_WAIT (&error, NULL, g_file_load_contents_async, file, NULL);
  if (res == NULL ||
      !g_file_load_contents_finish (file, res, &contents, &length, NULL, &error))
    {
      g_printerr ("load failed: %s\n", error->message);
      return 1;
    }
  if (strstr (contents, "A consumer of the installed library") == NULL)
    {
      g_printerr ("unexpected contents\n");
      return 1;
    }
  g_print ("consumer OK: smartasync-glib %u.%u.%u (headers %s), %s: %" G_GSIZE_FORMAT " bytes\n",
           smartasync_get_major_version (), smartasync_get_minor_version (),
           smartasync_get_micro_version (), SMARTASYNC_VERSION_S,
           g_type_name (SMARTASYNC_TYPE_WAITER), length);
  smartasync_reset ();
  return 0;
}
C
# shellcheck disable=SC2086  # word splitting of the flags is intended
${CC:-cc} -Wall -Wextra -Wno-unused-parameter -Werror $cflags \
  -o "$tmp/consumer" "$tmp/consumer.c" $libs \
  || fail "building a program against the installed headers and .pc file"
LD_LIBRARY_PATH=$destdir$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
  "$tmp/consumer" "$tmp/consumer.c" || fail "running the consumer program"
# It must have used the installed library, not one from the build tree.
LD_LIBRARY_PATH=$destdir$libdir ldd "$tmp/consumer" | grep -F "$destdir$libdir/lib$package.so" >/dev/null \
  || fail "the consumer is not linked to the installed library"

# 3. The installed typelib.
typelib_dir=$destdir$libdir/girepository-1.0
if [ -f "$typelib_dir/Smartasync-1.0.typelib" ]; then
  if "$python" -c 'import gi' 2>/dev/null; then
    GI_TYPELIB_PATH=$typelib_dir LD_LIBRARY_PATH=$destdir$libdir "$python" -c '
import gi
gi.require_version("Smartasync", "1.0")
from gi.repository import Smartasync
assert Smartasync.check_version(Smartasync.get_major_version(),
                                Smartasync.get_minor_version(),
                                Smartasync.get_micro_version()) is None
print("check-install: typelib OK: Smartasync %d.%d.%d" % (
    Smartasync.get_major_version(), Smartasync.get_minor_version(),
    Smartasync.get_micro_version()))
' || fail "loading the installed typelib"
    # The override, from where it was installed, with the settings the
    # README's "Install" section gives (PYTHONPATH to the site-packages
    # directory that holds gi/overrides/Smartasync.py).
    override=$(find "$destdir" -path '*/gi/overrides/Smartasync.py' | head -n 1)
    if [ -n "$override" ]; then
      GI_TYPELIB_PATH=$typelib_dir LD_LIBRARY_PATH=$destdir$libdir \
      PYTHONPATH=$(dirname "$(dirname "$(dirname "$override")")") "$python" -c '
import gi
gi.require_version("Smartasync", "1.0")
from gi.repository import Smartasync
assert callable(Smartasync.smartasync) and callable(Smartasync.sync)
' || fail "loading the installed PyGObject override"
      step "PyGObject override OK: ${override#"$destdir"}"
    fi
  else
    step "typelib installed; python3-gi missing, not loaded"
  fi
  # The GJS module, imported by its installed path (the README's line).
  module=$(find "$destdir" -name smartasync.js -path '*gjs*' | head -n 1)
  if [ -n "$module" ] && command -v gjs >/dev/null; then
    cat >"$tmp/import.js" <<JS
import {call, smartasync, sync} from 'file://$module';
if (typeof call !== 'function' || typeof smartasync !== 'function' || typeof sync !== 'function')
    throw new Error('smartasync.js lacks call, smartasync or sync');
JS
    GI_TYPELIB_PATH=$typelib_dir LD_LIBRARY_PATH=$destdir$libdir gjs -m "$tmp/import.js" \
      || fail "importing the installed GJS module"
    step "GJS module OK: ${module#"$destdir"}"
  fi
fi

# 4. The installed tests.
if [ "$installed_tests" = true ]; then
  metadir=$destdir$datadir/installed-tests/$package
  [ -d "$metadir" ] || fail "no .test files in $datadir/installed-tests/$package"
  command -v gnome-desktop-testing-runner >/dev/null \
    || fail "gnome-desktop-testing-runner not found (Debian: gnome-desktop-testing; tools/install-deps.sh installs it)"
  # The .test files name the real libexecdir; point them into the DESTDIR.
  mkdir -p "$tmp/data/installed-tests/$package"
  for t in "$metadir"/*.test; do
    sed "s|^Exec=$libexecdir/|Exec=$destdir$libexecdir/|" "$t" \
      >"$tmp/data/installed-tests/$package/$(basename "$t")"
  done
  step "running $(ls "$metadir" | wc -l) installed tests with gnome-desktop-testing-runner"
  if LD_LIBRARY_PATH=$destdir$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
       gnome-desktop-testing-runner --dir "$tmp/data" --timeout 300 "$package" \
       >"$tmp/runner.log" 2>&1; then
    step "$(grep '^SUMMARY' "$tmp/runner.log" || tail -n 1 "$tmp/runner.log")"
  else
    cat "$tmp/runner.log" >&2
    fail "gnome-desktop-testing-runner"
  fi
else
  step "installed tests not built (-Dinstalled_tests=false): runner skipped"
fi

step "OK"

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/install-deps.sh [demo|all]: installs the Debian 12 packages that
# smartasync-glib needs.
#   demo  what `tools/run-demo.sh` needs: a C toolchain, meson and GLib;
#   all   (the default) everything `tools/run-tests.sh` runs: introspection,
#         the Python and GJS bindings, the examples' D-Bus and GTK 4 tests,
#         the API reference, valgrind, clang, the analysers, reuse.
# Safe to run again; does nothing when every package is present. Needs root
# (or sudo). Says what it does: a fresh machine's first apt-get run takes a
# few minutes.
set -euo pipefail

set_name=${1:-all}

demo_packages=(
  # build: the library and the demo
  meson ninja-build gcc pkg-config libglib2.0-dev
)

test_packages=(
  # introspection
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0
  # binding tests: PyGObject (for /usr/bin/python3) and GJS
  python3-gi gjs
  # examples: the D-Bus daemon's private bus, the GTK 4 app under Xvfb
  dbus libgtk-4-dev gir1.2-gtk-4.0 xvfb xauth
  # the API reference (-Ddocs)
  gi-docgen
  # static analysis and coverage (tools/ci-analysis.sh); libFuzzer, clang's
  # sanitizer runtimes and the symbolizer (tools/ci-sanitizers.sh)
  clang-tools gcovr libclang-rt-14-dev llvm-14
  # Vala bindings (-Dvapi, built when vapigen is found)
  valac
  # tests; tools/check-install.sh runs the installed tests
  valgrind gnome-desktop-testing
  # the strict-warnings check with a second compiler (CONTRIBUTING.md)
  clang
  # license and copyright of every file (tools/ci-packaging.sh reuse)
  reuse
)

case "$set_name" in
  demo) packages=("${demo_packages[@]}") ;;
  all) packages=("${demo_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [demo|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: the ${#packages[@]} Debian packages of the '$set_name' set are installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: ${#missing[@]} of the ${#packages[@]} packages of the '$set_name' set are missing: ${missing[*]}"
echo "install-deps: apt-get update"
$sudo apt-get update -qq
echo "install-deps: apt-get install (with their dependencies; this can take a few minutes)"
start=$(date +%s)
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: installed in $(( $(date +%s) - start )) s"

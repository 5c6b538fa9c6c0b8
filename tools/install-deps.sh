#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs the Debian 12 packages needed to build smartasync-glib, run its
# demo and its whole test suite. Safe to run again; does nothing when all
# packages are present. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  meson ninja-build gcc pkg-config libglib2.0-dev
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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "installed: ${missing[*]}"
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up a fresh Debian 12 machine with what the demo needs (a C toolchain,
# meson, GLib), builds the demo and runs it. Says what it does at each step.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "run-demo: checking the Debian packages the demo needs"
bash tools/install-deps.sh demo
if [ ! -d build ]; then
  echo "run-demo: configuring the build in build/"
  meson setup build >/dev/null
fi
echo "run-demo: building the library and the demo"
meson compile -C build examples/smartasync-demo >/dev/null
echo "run-demo: running build/examples/smartasync-demo"
echo
exec ./build/examples/smartasync-demo

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-spdx.py SOURCE_ROOT: every source file carries an
# "SPDX-License-Identifier:" line near its top (CONVENTIONS.md item 34).
#
# Source files are the .c, .h, .py, .js and .sh files, meson.build and
# meson_options.txt, their .in templates, and any other script with a "#!"
# line. In a git checkout the files are the tracked ones plus new files that
# are not ignored (so a forgotten header fails before the commit); elsewhere
# (a `meson dist` tarball) the tree is walked, skipping build directories.
# Prints TAP, one line per file.

import fnmatch
import os
import subprocess
import sys

PATTERNS = ["*.c", "*.h", "*.py", "*.js", "*.sh", "meson.build",
            "meson_options.txt", "meson.options",
            "*.c.in", "*.h.in", "*.py.in", "*.js.in", "*.sh.in"]
HEAD_LINES = 20
TAG = "SPDX-License-Identifier:"


def git_files(root):
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"],
            check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [f for f in out.decode("utf-8", "surrogateescape").split("\0") if f]


def walked_files(root):
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        # Build directories (build*/, _*/) and hidden ones other than .ci
        dirnames[:] = [d for d in dirnames
                       if not (rel == "." and (d.startswith("build") or d.startswith("_")))
                       and not (d.startswith(".") and d != ".ci")
                       and d != "__pycache__"
                       and not os.path.exists(os.path.join(dirpath, d, "meson-private"))]
        for f in filenames:
            files.append(os.path.normpath(os.path.join(rel, f)))
    return files


def is_source(root, path):
    name = os.path.basename(path)
    if any(fnmatch.fnmatch(name, p) for p in PATTERNS):
        return True
    try:
        with open(os.path.join(root, path), "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return False


def has_tag(root, path):
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f):
            if TAG in line:
                return True
            if n >= HEAD_LINES:
                break
    return False


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-spdx.py SOURCE_ROOT")
    root = sys.argv[1]
    files = git_files(root)
    if files is None:
        files = walked_files(root)
    files = sorted(f for f in files
                   if os.path.isfile(os.path.join(root, f)) and is_source(root, f))
    if not files:
        print("1..0 # SKIP no source files found under %s" % root)
        return 0
    print("1..%d" % len(files))
    missing = 0
    for n, path in enumerate(files, 1):
        if has_tag(root, path):
            print("ok %d - %s" % (n, path))
        else:
            missing += 1
            print("not ok %d - %s has no %s line in its first %d lines"
                  % (n, path, TAG, HEAD_LINES))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-symbols.py LIBRARY: every symbol the shared library exports carries
# the smartasync_ prefix (CONVENTIONS.md item 4). Functions (T) must; so must
# any exported data (D, B, R), which the library should not have at all.
# Prints TAP.

import subprocess
import sys

PREFIX = "smartasync_"
# Symbols the toolchain may export from any shared object.
TOOLCHAIN = {"_init", "_fini", "_edata", "_end", "__bss_start"}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-symbols.py LIBRARY")
    library = sys.argv[1]
    try:
        out = subprocess.run(["nm", "-D", "--defined-only", library],
                             check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print("1..0 # SKIP cannot run nm: %s" % e)
        return 0

    functions = []
    bad = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        kind, name = fields[1], fields[2].split("@")[0]
        if kind in "AaUuVvWw" or name in TOOLCHAIN:
            continue
        if kind == "T":
            functions.append(name)
        if not name.startswith(PREFIX):
            bad.append("%s %s" % (kind, name))

    print("1..2")
    if functions:
        print("ok 1 - %d exported functions" % len(functions))
    else:
        print("not ok 1 - no exported function found in %s" % library)
    if bad:
        print("not ok 2 - exported symbols without the %s prefix" % PREFIX)
        for b in bad:
            print("# %s" % b)
    else:
        print("ok 2 - every exported symbol starts with %s" % PREFIX)
    return 1 if bad or not functions else 0


if __name__ == "__main__":
    sys.exit(main())

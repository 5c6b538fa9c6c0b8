#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-availability.py HEADER...: every public function prototype in the
# given headers is preceded by an availability macro, SMARTASYNC_AVAILABLE_IN_*
# or SMARTASYNC_DEPRECATED_IN_* (CONVENTIONS.md item 5). Without one the
# function is not exported (the library is built with hidden visibility) and
# applications cannot restrict themselves to an API version.
#
# Private headers (*-private.h) are skipped. Static inline functions and macros
# are not prototypes and are skipped too. Prints TAP, one line per header.

import os
import re
import sys

PROTOTYPE = re.compile(r"\b(smartasync_\w+)\s*\(")
MACRO = re.compile(r"\bSMARTASYNC_(AVAILABLE_IN_\w+|DEPRECATED_IN_\w+|DEPRECATED(_FOR)?)\b")


def strip(text):
    """Blanks comments, string literals and preprocessor lines, keeping the
    line structure so that positions still map to line numbers."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    text = re.sub(r"/\*.*?\*/|//[^\n]*|\"(\\.|[^\"\\\n])*\"", blank, text, flags=re.S)
    return re.sub(r"^[ \t]*#([^\n]*\\\n)*[^\n]*", blank, text, flags=re.M)


def statements(text):
    """Yields (start, end, is_definition) for each top-level declaration: text
    up to a ';' at brace depth 0, or up to the end of a '{...}' body (a
    function definition, or a struct/enum body: neither is a prototype)."""
    depth = 0
    start = 0
    for i, c in enumerate(text):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                yield start, i + 1, True
                start = i + 1
        elif c == ";" and depth == 0:
            yield start, i + 1, False
            start = i + 1


def after_last_invocation(before):
    """The text after the last parenthesised macro invocation in @before, or
    from that invocation on when it is an availability macro."""
    close = before.rfind(")")
    if close < 0:
        return before
    depth = 0
    for i in range(close, -1, -1):
        if before[i] == ")":
            depth += 1
        elif before[i] == "(":
            depth -= 1
            if depth == 0:
                name = re.search(r"(\w+)\s*$", before[:i])
                if name and MACRO.fullmatch(name.group(1)):
                    return before[name.start():]
                break
    return before[close + 1:]


def check(path):
    raw = open(path, encoding="utf-8").read()
    text = strip(raw)
    missing = []
    count = 0
    for start, end, is_definition in statements(text):
        stmt = text[start:end]
        m = PROTOTYPE.search(stmt)
        if not m or is_definition:
            continue
        before = stmt[:m.start()]
        if re.search(r"\btypedef\b", before):
            continue
        # A macro invocation without ';' (G_DECLARE_FINAL_TYPE (...),
        # G_DEFINE_AUTOPTR_CLEANUP_FUNC (...)) glues onto the next statement:
        # only what follows its closing parenthesis belongs to this prototype.
        # (SMARTASYNC_DEPRECATED_IN_x_y_FOR (f) is itself such an invocation.)
        before = after_last_invocation(before)
        count += 1
        if not MACRO.search(before):
            line = raw.count("\n", 0, start + m.start()) + 1
            missing.append("%s:%d: %s" % (path, line, m.group(1)))
    return count, missing


def main():
    headers = [h for h in sys.argv[1:] if not h.endswith("-private.h")]
    if not headers:
        sys.exit("usage: check-availability.py HEADER...")
    print("1..%d" % len(headers))
    failed = 0
    for n, path in enumerate(headers, 1):
        count, missing = check(path)
        name = os.path.basename(path)
        if missing:
            failed += 1
            print("not ok %d - %s: %d of %d prototypes lack SMARTASYNC_AVAILABLE_IN_*"
                  % (n, name, len(missing), count))
            for m in missing:
                print("# %s" % m)
        else:
            print("ok %d - %s: %d prototypes" % (n, name, count))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

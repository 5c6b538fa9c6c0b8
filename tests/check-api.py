#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""API/ABI baseline check.

Extracts every public C symbol of the GIR (functions, methods, constructors,
callbacks, with their return and parameter C types; enum members with their
values; class properties) and compares the result with the saved baseline:
a symbol that disappeared or whose signature changed fails the check, so
later changes cannot break users silently. New symbols are listed and
allowed; record them with --update when releasing.

    check-api.py GIR BASELINE [--update]
"""

import sys
import xml.etree.ElementTree as ET

NS = {
    "core": "http://www.gtk.org/introspection/core/1.0",
    "c": "http://www.gtk.org/introspection/c/1.0",
}
C_ID = "{%s}identifier" % NS["c"]
C_TYPE = "{%s}type" % NS["c"]
CALLABLES = ("function", "method", "constructor", "virtual-method", "callback")


def c_type(node):
    for child in node:
        tag = child.tag.split("}")[1]
        if tag in ("type", "array"):
            return child.get(C_TYPE) or child.get("name") or "?"
        if tag == "varargs":
            return "..."
    return "?"


def signature(node):
    ret = node.find("core:return-value", NS)
    params = []
    holder = node.find("core:parameters", NS)
    if holder is not None:
        for param in holder:
            params.append(c_type(param))
    throws = " throws" if node.get("throws") == "1" else ""
    return f"{c_type(ret) if ret is not None else 'void'} ({', '.join(params)}){throws}"


def extract(gir_path):
    api = {}
    root = ET.parse(gir_path).getroot()
    for node in root.iter():
        tag = node.tag.split("}")[1]
        if tag in CALLABLES:
            name = node.get(C_ID) or node.get(C_TYPE) or node.get("name")
            if tag == "callback":
                name = "callback " + (node.get(C_TYPE) or node.get("name"))
            api[name] = signature(node)
        elif tag == "member":
            api["enum " + node.get(C_ID)] = node.get("value")
    for cls in root.iter("{%s}class" % NS["core"]):
        for prop in cls.findall("core:property", NS):
            access = "rw" if prop.get("writable") == "1" else "r"
            api[f"property {cls.get(C_TYPE)}:{prop.get('name')}"] = f"{c_type(prop)} {access}"
    return api


def load(path):
    api = {}
    with open(path, encoding="utf-8") as baseline:
        for line in baseline:
            if line.startswith("#") or not line.strip():
                continue
            key, _, value = line.rstrip("\n").partition(" = ")
            api[key] = value
    return api


def main():
    gir, baseline_path = sys.argv[1], sys.argv[2]
    current = extract(gir)
    if "--update" in sys.argv:
        with open(baseline_path, "w", encoding="utf-8") as out:
            # REUSE-IgnoreStart (the header written, not this file's)
            out.write("# SPDX-License-Identifier: LGPL-2.1-or-later\n")
            # REUSE-IgnoreEnd
            out.write("# Public API of smartasync-glib-1.0, from the GIR. Regenerate with\n")
            out.write("# tests/check-api.py <builddir>/smartasync-glib/Smartasync-1.0.gir "
                      "tests/abi/smartasync-glib-1.0.api --update\n")
            for key in sorted(current):
                out.write(f"{key} = {current[key]}\n")
        print(f"wrote {len(current)} entries to {baseline_path}")
        return 0

    baseline = load(baseline_path)
    removed = sorted(k for k in baseline if k not in current)
    changed = sorted(k for k in baseline if k in current and current[k] != baseline[k])
    added = sorted(k for k in current if k not in baseline)
    print(f"1..{len(baseline) + 1}")
    n = 0
    for key in sorted(baseline):
        n += 1
        if key in removed:
            print(f"not ok {n} {key}: removed (was {baseline[key]})")
        elif key in changed:
            print(f"not ok {n} {key}: changed from {baseline[key]} to {current[key]}")
        else:
            print(f"ok {n} {key}")
    for key in added:
        print(f"# added: {key} = {current[key]}")
    print(f"ok {n + 1} # {len(added)} new symbol(s) not in the baseline yet")
    return 1 if removed or changed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-snippets.py --examples PROGRAM... --guides PAGE...
#                   [--pages NAME...] [--optional NAME...] [--classes SOURCE...]
#
# Every fenced code block of the guides in C, Python or JavaScript must be a
# verbatim excerpt of one of the example programs (which the 'docs' suite
# builds and runs), up to indentation: a block quoted from inside a function
# may be shown dedented. Blocks in other languages (sh, text, ...) are not
# checked.
#
# Every link from a guide to another page ("(name.html)") must point to one
# of the pages of the reference (--pages, file names of the content pages).
# Links to --optional pages (maintained by others, not written yet) are
# skipped while those pages are missing.
#
# The class pages of the reference come from the class doc comments
# ("/**\n * SmartasyncLock:") of the --classes sources: each of them must
# carry at least one usage example, a fenced C block, and each block is
# checked as a guide's is. Prints TAP, one line per block, link or class.

import os
import re
import sys
import textwrap

LINK_RE = re.compile(r"\]\(([A-Za-z0-9_-]+)\.html(#[^)]*)?\)")

CHECKED = {"c": ".c", "python": ".py", "js": ".js", "javascript": ".js"}


def blocks(path):
    """Yields (line number, language, lines) for each fenced block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            language = line.lstrip()[3:].strip().lower()
            start = i + 1
            i += 1
            while i < len(lines) and not lines[i].lstrip().startswith("```"):
                i += 1
            yield start, language, lines[start:i]
        i += 1


CLASS_RE = re.compile(r"^ \* (Smartasync[A-Z]\w*):\s*$")


def class_docs(path):
    """Yields (class name, first line number, text lines) for each class doc
    comment of a C source, with the " * " prefixes taken off."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        match = CLASS_RE.match(line)
        if not match or i == 0 or lines[i - 1].strip() != "/**":
            continue
        text = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith("*/"):
            text.append(re.sub(r"^ \*( |$)", "", lines[j]))
            j += 1
        yield match.group(1), i + 2, text


def blocks_of_lines(lines):
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            language = lines[i].lstrip()[3:].strip().lower()
            start = i + 1
            i += 1
            while i < len(lines) and not lines[i].lstrip().startswith("```"):
                i += 1
            yield start, language, lines[start:i]
        i += 1


def normalized(lines):
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return textwrap.dedent(text)


def found_in(block, program_lines):
    n = len(block.splitlines())
    for start in range(0, len(program_lines) - n + 1):
        if normalized(program_lines[start:start + n]) == block:
            return True
    return False


def links(path):
    """Yields (line number, page name) for each link to another page."""
    in_code = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.lstrip().startswith("```"):
                in_code = not in_code
            if not in_code:
                for match in LINK_RE.finditer(line):
                    yield number, match.group(1) + ".md"


def main(argv):
    lists = {"--examples": [], "--guides": [], "--pages": [], "--optional": [],
             "--classes": []}
    target = None
    for arg in argv:
        if arg in lists:
            target = lists[arg]
        else:
            target.append(arg)
    examples, guides = lists["--examples"], lists["--guides"]
    pages = {os.path.basename(p) for p in lists["--pages"]}
    optional = {os.path.basename(p) for p in lists["--optional"]}

    programs = {}
    for path in examples:
        with open(path, encoding="utf-8") as f:
            programs[path] = f.read().splitlines()

    results = []
    for guide in guides:
        name = guide.rsplit("/", 1)[-1]
        for line, language, lines in blocks(guide):
            suffix = CHECKED.get(language)
            if suffix is None:
                continue
            block = normalized(lines)
            where = [p.rsplit("/", 1)[-1] for p, text in programs.items()
                     if p.endswith(suffix) and found_in(block, text)]
            if where:
                results.append((True, f"{name}:{line} ({language}) is in {where[0]}"))
            else:
                results.append((False, f"{name}:{line} ({language}) is not in any example program"))
        if pages:
            for line, page in links(guide):
                if page in pages:
                    results.append((True, f"{name}:{line} links to {page}"))
                elif page in optional:
                    results.append((True, f"{name}:{line} links to {page} # SKIP not written yet"))
                else:
                    results.append((False, f"{name}:{line} links to {page}, which is not a page"))

    for source in lists["--classes"]:
        name = source.rsplit("/", 1)[-1]
        for class_name, first, text in class_docs(source):
            examples_found = 0
            for line, language, lines in blocks_of_lines(text):
                if language != "c":
                    continue
                examples_found += 1
                block = normalized(lines)
                where = [p.rsplit("/", 1)[-1] for p, program in programs.items()
                         if p.endswith(".c") and found_in(block, program)]
                what = f"{name}: {class_name}'s example at line {first + line}"
                results.append((bool(where), f"{what} is in {where[0]}" if where
                                else f"{what} is not in any example program"))
            results.append((examples_found > 0,
                            f"{name}: the {class_name} page has a usage example"))

    if not results:
        print("1..0 # SKIP no code blocks")
        return 0
    print(f"1..{len(results)}")
    for i, (ok, what) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

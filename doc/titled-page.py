#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# titled-page.py INPUT OUTPUT: copies a Markdown page, adding the "Title:"
# line that gi-docgen reads (from the first "# " heading) when it has none.

import sys


def main(source, dest):
    with open(source, encoding="utf-8") as f:
        text = f.read()

    first = text.split("\n", 1)[0]
    if not first.lower().startswith("title:"):
        title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")),
                     source.rsplit("/", 1)[-1])
        text = f"Title: {title}\n\n{text}"

    with open(dest, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

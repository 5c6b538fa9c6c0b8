#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Plots the JSON of tests/bench-scaling as an SVG, with Python's standard library only.

    build/tests/bench-scaling --json scaling.json
    python3 tools/plot-performance.py scaling.json doc/performance-scaling.svg

Left: the cost of one call against the number of calls pending at once (log
scale), one line per series: the median of the rounds, with whiskers over the
middle half of them (25th to 75th percentile), so that one round disturbed by
the machine does not flatten the plot. Right: offload throughput against the
number of calling threads.
"""

import argparse
import html
import json
import math
import sys

COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
MARKERS = ["circle", "square", "diamond", "triangle", "circle", "square"]
WIDTH, HEIGHT = 1000, 530
PANEL_W, PANEL_H = 390, 300
MARGIN_LEFT, MARGIN_TOP = 80, 70


def nice_step(span, ticks=5):
    """A step of 1, 2 or 5 times a power of ten giving about `ticks` ticks."""
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def si(value):
    """1000 -> 1k, 100000 -> 100k, 2500000 -> 2.5M."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:g}"


class Svg:
    def __init__(self):
        self.parts = []

    def add(self, text):
        self.parts.append(text)

    def text(self, x, y, s, size=12, anchor="start", weight="normal", colour="#222", rotate=None):
        transform = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                 f'font-weight="{weight}" fill="{colour}"{transform}>{html.escape(s)}</text>')

    def line(self, x1, y1, x2, y2, colour="#222", width=1.0, dash=None):
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{colour}" stroke-width="{width}"{dashes}/>')

    def marker(self, kind, x, y, colour, r=4.0):
        if kind == "square":
            self.add(f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
                     f'height="{2 * r:.1f}" fill="{colour}"/>')
        elif kind == "diamond":
            r *= 1.3
            self.add(f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} '
                     f'{x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}" fill="{colour}"/>')
        elif kind == "triangle":
            r *= 1.3
            self.add(f'<polygon points="{x:.1f},{y - r:.1f} {x + r:.1f},{y + r * 0.8:.1f} '
                     f'{x - r:.1f},{y + r * 0.8:.1f}" fill="{colour}"/>')
        else:
            self.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"/>')

    def render(self):
        return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
                f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">\n'
                f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>\n'
                + "\n".join(self.parts) + "\n</svg>\n")


def percentile(values, p):
    """Linear interpolation between the nearest ranks, as bench-util.c does."""
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def series_of(rows, x_key, value_key):
    """{series: [(x, median, 25th percentile, 75th percentile of the rounds)]}."""
    out = {}
    for row in rows:
        rounds = [v for v in row.get("rounds_" + value_key) or [] if v is not None]
        rounds = rounds or [row[value_key]]
        out.setdefault(row["series"], []).append(
            (row[x_key], row[value_key], percentile(rounds, 0.25), percentile(rounds, 0.75)))
    return out


def panel(svg, left, top, title, x_label, y_label, data, log_x, y_format):
    xs = sorted({x for points in data.values() for x, *_ in points})
    y_max = max(hi for points in data.values() for *_, hi in points) or 1
    step = nice_step(y_max)
    y_top = step * math.ceil(y_max / step)

    if log_x:
        lo, hi = math.log10(xs[0]), math.log10(xs[-1])

        def px(x):
            return left + (math.log10(x) - lo) / ((hi - lo) or 1) * PANEL_W
    else:
        lo, hi = xs[0], xs[-1]

        def px(x):
            return left + (x - lo) / ((hi - lo) or 1) * PANEL_W

    def py(y):
        return top + PANEL_H - y / y_top * PANEL_H

    svg.text(left + PANEL_W / 2, top - 16, title, size=14, anchor="middle", weight="bold")
    # Grid and y axis
    y = 0.0
    while y <= y_top + step / 2:
        svg.line(left, py(y), left + PANEL_W, py(y), colour="#ddd")
        svg.text(left - 8, py(y) + 4, y_format(y), size=11, anchor="end")
        y += step
    for x in xs:
        svg.line(px(x), top, px(x), top + PANEL_H, colour="#eee")
        svg.text(px(x), top + PANEL_H + 18, si(x), size=11, anchor="middle")
    svg.line(left, top + PANEL_H, left + PANEL_W, top + PANEL_H, colour="#444")
    svg.line(left, top, left, top + PANEL_H, colour="#444")
    svg.text(left + PANEL_W / 2, top + PANEL_H + 40, x_label, size=12, anchor="middle")
    svg.text(left - 58, top + PANEL_H / 2, y_label, size=12, anchor="middle", rotate=-90)

    # Lines, whiskers, markers, legend
    for i, (name, points) in enumerate(data.items()):
        colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
        path = " ".join(f"{'M' if j == 0 else 'L'}{px(x):.1f},{py(v):.1f}"
                        for j, (x, v, _, _) in enumerate(points))
        svg.add(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, v, low, high in points:
            svg.line(px(x), py(low), px(x), py(high), colour=colour, width=1.2)
            svg.marker(marker, px(x), py(v), colour)
        # The legend goes under the panel, two entries a line.
        lx = left + (i % 2) * (PANEL_W / 2)
        ly = top + PANEL_H + 66 + 20 * (i // 2)
        svg.line(lx, ly, lx + 24, ly, colour=colour, width=2)
        svg.marker(marker, lx + 12, ly, colour)
        svg.text(lx + 32, ly + 4, name, size=11)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="the output of bench-scaling --json FILE")
    parser.add_argument("svg", help="the SVG file to write")
    args = parser.parse_args()

    with open(args.json, encoding="utf-8") as f:
        report = json.load(f)
    if "scaling" not in report or "throughput" not in report:
        sys.exit(f"{args.json}: not the JSON of bench-scaling (no \"scaling\" rows)")

    svg = Svg()
    svg.text(WIDTH / 2, 26, "smartasync-glib: cost per call against concurrency, offload throughput",
             size=16, anchor="middle", weight="bold")
    panel(svg, MARGIN_LEFT, MARGIN_TOP, "Cost of one call with N calls pending",
          "N, calls pending at once (log scale)", "ns per call (median of rounds)",
          series_of(report["scaling"], "pending", "ns_per_call"), True, si)
    panel(svg, MARGIN_LEFT + PANEL_W + 120, MARGIN_TOP,
          f"Offloads, {report.get('in_flight_per_thread', '?')} in flight per calling thread",
          "calling threads, each with its own loop", "offloads per second (median of rounds)",
          series_of(report["throughput"], "threads", "ops_per_s"), False, si)

    load = ", ".join(f"{x:.2f}" for x in report.get("loadavg_start", report.get("loadavg", [])))
    svg.text(MARGIN_LEFT, HEIGHT - 14,
             f"smartasync-glib {report['smartasync_version']}, GLib {report['glib_version']}, "
             f"{report['nproc']} CPUs ({report['cpu_model']}), load average {load} at start; "
             f"{'quick' if report['quick'] else 'full'} run; whiskers: 25th to 75th percentile "
             f"of {report['rounds']} rounds.", size=11, colour="#555")

    with open(args.svg, "w", encoding="utf-8") as f:
        f.write(svg.render())


if __name__ == "__main__":
    main()

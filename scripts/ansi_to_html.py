#!/usr/bin/env python3
"""Turn a terminal capture with SGR colour escapes (tmux capture-pane -p -e) into an HTML page
that shows it as a terminal does: a monospace grid exactly COLS cells wide, dark background.

    ansi_to_html.py --cols 80 --rows 40 --title TITLE IN.ansi OUT.html

Understood: SGR 0, 1, 2, 3, 4, 7, 9, 22-24, 27, 29, 30-37, 38;5;N, 38;2;R;G;B, 39, 40-47,
48;5;N, 48;2;R;G;B, 49, 90-97, 100-107. Other escape sequences are dropped. The page writes its
size into <body data-size="WxH"> for scripts/chromium-png.sh.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from dataclasses import dataclass, replace

# The 16 ANSI colours (a dark theme: xterm's hues, softened like most terminal defaults).
PALETTE = [
    "#2e3436", "#e5484d", "#4cc38a", "#e2b53e", "#5b9bf8", "#c678dd", "#39c5cf", "#d0d0d0",
    "#767676", "#ff6b6b", "#69db7c", "#ffd43b", "#74c0fc", "#e599f7", "#66d9e8", "#ffffff",
]
FOREGROUND = "#d0d0d0"
BACKGROUND = "#1c1c1c"

ESCAPE = re.compile(r"\x1b\[([0-9;:]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")


def colour_256(n: int) -> str:
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    level = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (level, level, level)


@dataclass(frozen=True)
class Pen:
    fg: str | None = None
    bg: str | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    inverse: bool = False
    strike: bool = False

    def css(self) -> str:
        fg, bg = self.fg, self.bg
        if self.inverse:
            fg, bg = bg or BACKGROUND, fg or FOREGROUND
        rules = []
        if fg:
            rules.append(f"color:{fg}")
        if bg:
            rules.append(f"background:{bg}")
        if self.bold:
            rules.append("font-weight:bold")
        if self.dim:
            rules.append("opacity:0.7")
        if self.italic:
            rules.append("font-style:italic")
        lines = [w for w, on in (("underline", self.underline), ("line-through", self.strike)) if on]
        if lines:
            rules.append("text-decoration:" + " ".join(lines))
        return ";".join(rules)


def extended_colour(params: list[int], i: int) -> tuple[str | None, int]:
    """Read `5;N` or `2;R;G;B` after 38/48; return the colour and how many numbers it used."""
    if i < len(params) and params[i] == 5 and i + 1 < len(params):
        return colour_256(params[i + 1] % 256), 2
    if i < len(params) and params[i] == 2 and i + 3 < len(params):
        r, g, b = (min(255, v) for v in params[i + 1 : i + 4])
        return "#%02x%02x%02x" % (r, g, b), 4
    return None, 0


def apply_sgr(pen: Pen, text: str) -> Pen:
    params = [int(p) if p else 0 for p in re.split("[;:]", text)] if text else [0]
    i = 0
    while i < len(params):
        p = params[i]
        i += 1
        if p == 0:
            pen = Pen()
        elif p == 1:
            pen = replace(pen, bold=True)
        elif p == 2:
            pen = replace(pen, dim=True)
        elif p == 3:
            pen = replace(pen, italic=True)
        elif p == 4:
            pen = replace(pen, underline=True)
        elif p == 7:
            pen = replace(pen, inverse=True)
        elif p == 9:
            pen = replace(pen, strike=True)
        elif p == 22:
            pen = replace(pen, bold=False, dim=False)
        elif p == 23:
            pen = replace(pen, italic=False)
        elif p == 24:
            pen = replace(pen, underline=False)
        elif p == 27:
            pen = replace(pen, inverse=False)
        elif p == 29:
            pen = replace(pen, strike=False)
        elif 30 <= p <= 37:
            pen = replace(pen, fg=PALETTE[p - 30])
        elif 90 <= p <= 97:
            pen = replace(pen, fg=PALETTE[p - 90 + 8])
        elif 40 <= p <= 47:
            pen = replace(pen, bg=PALETTE[p - 40])
        elif 100 <= p <= 107:
            pen = replace(pen, bg=PALETTE[p - 100 + 8])
        elif p == 39:
            pen = replace(pen, fg=None)
        elif p == 49:
            pen = replace(pen, bg=None)
        elif p in (38, 48):
            colour, used = extended_colour(params, i)
            i += used
            pen = replace(pen, fg=colour) if p == 38 else replace(pen, bg=colour)
    return pen


def to_html(text: str) -> str:
    out: list[str] = []
    pen = Pen()

    def emit(chunk: str) -> None:
        if not chunk:
            return
        style = pen.css()
        escaped = html.escape(chunk, quote=False)
        out.append(f'<span style="{style}">{escaped}</span>' if style else escaped)

    pos = 0
    for match in ESCAPE.finditer(text):
        emit(text[pos : match.start()])
        pos = match.end()
        if match.group(2) == "m":
            pen = apply_sgr(pen, match.group(1))
    emit(text[pos:])
    return "".join(out)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  html, body {{ margin: 0; background: #ffffff; }}
  body {{ padding: 16px; width: max-content; }}
  .window {{ border-radius: 8px; overflow: hidden; border: 1px solid #3a3a3a;
    background: {background}; }}
  /* The window is as wide as the 80 columns, never as the title: width 0, min-width 100%. */
  .window {{ display: inline-block; }}
  .bar {{ background: #2d2d2d; color: #a0a0a0; padding: 6px 12px; text-align: center;
    font: 12px "DejaVu Sans", "Liberation Sans", sans-serif; box-sizing: border-box;
    width: 0; min-width: 100%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
  pre {{ margin: 0; padding: 8px 10px; color: {foreground}; background: {background};
    font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 14px;
    line-height: 17px; width: {cols}ch; min-height: calc({rows} * 17px);
    white-space: pre; overflow: hidden; font-variant-ligatures: none; }}
</style>
</head>
<body>
<div class="window">
<div class="bar">{title}</div>
<pre>{screen}</pre>
</div>
<script>
  const box = document.querySelector(".window").getBoundingClientRect();
  document.body.setAttribute("data-size",
    Math.ceil(box.right + 16) + "x" + Math.ceil(box.bottom + 16));
</script>
</body>
</html>
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cols", type=int, default=80)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--title", default="")
    parser.add_argument("ansi")
    parser.add_argument("html")
    args = parser.parse_args()
    with open(args.ansi, encoding="utf-8", errors="replace") as f:
        screen = to_html(f.read().rstrip("\n"))
    with open(args.html, "w", encoding="utf-8") as f:
        f.write(
            PAGE.format(
                title=html.escape(args.title),
                screen=screen,
                cols=args.cols,
                rows=args.rows,
                foreground=FOREGROUND,
                background=BACKGROUND,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

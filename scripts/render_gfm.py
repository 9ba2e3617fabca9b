#!/usr/bin/env python3
"""Render a Markdown comment to an HTML page that looks like a GitHub pull-request comment.

GitHub renders comments with its fork of cmark (cmark-gfm) and the extensions table,
strikethrough, autolink, tagfilter and tasklist, lets raw HTML through, and then sanitises the
result with an allowlist of elements and attributes. This script does the same: cmark-gfm through
the `cmarkgfm` bindings, then the allowlist below, then GitHub's stylesheet (github-markdown-css,
light) inside a box shaped like a timeline comment.

    render_gfm.py --css github-markdown-light.css IN.md CLOSED.html [OPEN.html]

CLOSED.html shows every <details> closed, as GitHub first shows it; OPEN.html (written only when
the comment has a <details>) shows them all open. The page measures itself and writes its size
into <body data-size="WxH"> so that `chromium --dump-dom` can size the screenshot window to it.
Exit status 3 means the input has no <details>, so no OPEN.html was written.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# The elements GitHub lets through in user content (its html-pipeline allowlist), plus the
# checkbox cmark-gfm's tasklist extension writes.
ALLOWED_ELEMENTS = frozenset(
    """h1 h2 h3 h4 h5 h6 h7 h8 br b i strong em a pre code img tt div ins del sup sub p ol ul
    table thead tbody tfoot blockquote dl dt dd kbd q samp var hr ruby rt rp li tr td th s strike
    summary details input""".split()
)
# Dropped together with everything inside them (not only the tags).
REMOVE_WITH_CONTENTS = frozenset(
    "script style iframe math noembed noframes noscript plaintext svg xmp textarea title".split()
)
VOID_ELEMENTS = frozenset("br hr img input wbr".split())
ATTRIBUTES_FOR = {
    "a": {"href"},
    "img": {"src", "longdesc"},
    "div": {"itemscope", "itemtype"},
    "blockquote": {"cite"},
    "del": {"cite"},
    "ins": {"cite"},
    "q": {"cite"},
}
ATTRIBUTES_ANYWHERE = frozenset(
    """abbr accept accept-charset accesskey action align alt axis border cellpadding
    cellspacing char charoff charset checked clear cols colspan color compact coords datetime dir
    disabled enctype for frame headers height hreflang hspace ismap label lang maxlength media
    method multiple name nohref noshade nowrap open prompt readonly rel rev rows rowspan rules
    scope selected shape size span start summary tabindex target title type usemap valign value
    vspace width itemprop""".split()
)
# URL schemes allowed per attribute; None stands for a relative URL (no scheme).
URL_SCHEMES = {
    "href": {"http", "https", "mailto", "github-windows", "github-mac", None},
    "src": {"http", "https", None},
    "longdesc": {"http", "https", None},
    "cite": {"http", "https", None},
}
# A start tag of one of these closes an open <p>, as the HTML parser does.
CLOSES_P = frozenset(
    """address article aside blockquote details div dl fieldset figcaption figure footer form
    h1 h2 h3 h4 h5 h6 header hr main menu nav ol p pre section table ul""".split()
)
TABLE_PARTS = frozenset("thead tbody tfoot tr td th".split())
LISTS = frozenset(("ul", "ol"))


def url_allowed(attribute: str, value: str) -> bool:
    # Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
    squeezed = re.sub(r"[\x00-\x20]", "", value)
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", squeezed)
    scheme = match.group(1).lower() if match else None
    if scheme is None and ":" in squeezed.split("/", 1)[0]:
        return False  # something scheme-like that is not a scheme
    return scheme in URL_SCHEMES[attribute]


class Sanitiser(HTMLParser):
    """Streams HTML through the allowlist; comments and unknown elements disappear."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []  # allowed elements currently open, outermost first
        self.skipping: list[str] = []  # a removed-with-contents element we are inside

    def attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        kept = []
        for name, value in attrs:
            name = name.lower()
            if name not in ATTRIBUTES_ANYWHERE and name not in ATTRIBUTES_FOR.get(tag, ()):
                continue
            value = value or ""
            if name in URL_SCHEMES and not url_allowed(name, value):
                continue
            if tag == "input" and name == "type" and value.lower() != "checkbox":
                return None  # only the task-list checkbox
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        return "".join(kept)

    def handle_starttag(self, tag, attrs):
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.append(tag)
            return
        if tag in REMOVE_WITH_CONTENTS:
            self.skipping.append(tag)
            return
        if tag not in ALLOWED_ELEMENTS:
            return
        if tag in TABLE_PARTS and "table" not in self.open:
            return
        if tag == "li" and not LISTS.intersection(self.open):
            return
        attributes = self.attributes(tag, attrs)
        if attributes is None:
            return
        if tag in CLOSES_P and self.open and self.open[-1] == "p":
            self.handle_endtag("p")
        self.out.append(f"<{tag}{attributes}>")
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        # Browsers ignore the slash of <div/>: it opens the element like <div>.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag not in self.open:
            return
        while self.open:
            closing = self.open.pop()
            self.out.append(f"</{closing}>")
            if closing == tag:
                break

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(html.escape(data, quote=False))

    def handle_comment(self, data):
        pass  # GitHub shows no comment: the plangate marker stays hidden

    def handle_decl(self, decl):
        pass

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def markdown_to_html(markdown: str) -> str:
    # GitHub keeps raw HTML (UNSAFE) and relies on tagfilter plus its sanitiser afterwards.
    rendered = cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES
    )
    sanitiser = Sanitiser()
    sanitiser.feed(rendered)
    return sanitiser.result()


def open_all_details(body: str) -> str:
    return re.sub(r"<details(?![^>]*\bopen\b)", "<details open", body)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
{css}
</style>
<style>
  /* The page around one timeline comment on a pull request (GitHub light theme). */
  html, body {{ margin: 0; background: #ffffff; }}
  body {{ padding: 16px; width: {width}px; }}
  .comment {{ border: 1px solid #d1d9e0; border-radius: 6px; background: #ffffff; }}
  .comment-header {{
    display: flex; align-items: center; gap: 6px; padding: 8px 16px;
    background: #f6f8fa; border-bottom: 1px solid #d1d9e0;
    border-top-left-radius: 6px; border-top-right-radius: 6px;
    color: #59636e; font-size: 14px; line-height: 20px;
    font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
      sans-serif, "Apple Color Emoji", "Segoe UI Emoji";
  }}
  .comment-header strong {{ color: #1f2328; font-weight: 600; }}
  .comment-header .label {{
    border: 1px solid #d1d9e0; border-radius: 2em; padding: 0 7px; font-size: 12px;
    line-height: 18px; font-weight: 500;
  }}
  .comment-body {{ padding: 16px; }}
  /* Comments use 14px text; github-markdown-css's own default is 16px (README size). */
  .comment-body.markdown-body {{ font-size: 14px; }}
</style>
</head>
<body>
<div class="comment">
  <div class="comment-header"><strong>{author}</strong><span class="label">bot</span>
    <span>commented</span></div>
  <div class="comment-body markdown-body">
{body}
  </div>
</div>
<script>
  // Read by the screenshot script through chromium --dump-dom.
  // The comment's bottom edge, not scrollHeight: the latter is never less than the window.
  const bottom = document.querySelector(".comment").getBoundingClientRect().bottom;
  document.body.setAttribute("data-size",
    Math.ceil(document.body.getBoundingClientRect().width) + "x" + Math.ceil(bottom + 16));
</script>
</body>
</html>
"""


def page(body: str, css: str, title: str, author: str, width: int) -> str:
    return PAGE.format(
        css=css,
        body=body,
        title=html.escape(title),
        author=html.escape(author),
        width=width,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--css", required=True, help="github-markdown-light.css")
    parser.add_argument("--author", default="github-actions")
    parser.add_argument("--width", type=int, default=760, help="comment box width in px")
    parser.add_argument("markdown")
    parser.add_argument("closed_html")
    parser.add_argument("open_html", nargs="?")
    args = parser.parse_args()

    with open(args.markdown, encoding="utf-8") as f:
        markdown = f.read()
    with open(args.css, encoding="utf-8") as f:
        css = f.read()
    body = markdown_to_html(markdown)
    title = args.markdown.rsplit("/", 1)[-1]
    with open(args.closed_html, "w", encoding="utf-8") as f:
        f.write(page(body, css, title, args.author, args.width))
    if "<details" not in body:
        return 3
    if args.open_html:
        with open(args.open_html, "w", encoding="utf-8") as f:
            f.write(page(open_all_details(body), css, title, args.author, args.width))
    return 0


if __name__ == "__main__":
    sys.exit(main())

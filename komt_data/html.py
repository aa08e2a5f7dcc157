"""HTML to readable plain text, for KorQuAD 2.x contexts (whole Wikipedia pages as HTML).

Block elements become line breaks, list items become ``- `` lines, table rows become one
line with cells separated by `` | ``, and scripts, styles and the document head vanish.
Answers are converted with the same function, so an answer that was a table cell or a
list item is found in the converted context exactly as it reads there.

The page is tokenized here in one left-to-right pass rather than with ``html.parser``:
that parser rescans the rest of the page at every unclosed ``<a `` (``"<a " * 16000``,
48 KB, took 25 s; a 1 MB page hours) and raises AssertionError on a malformed ``<![``
section. Every step below either moves past what it looked at or ends the page, so the
cost is linear in its length, and no input raises. Malformed markup is read as browsers
read it (the HTML5 tokenizer): a tag, comment or quoted attribute left open runs to the
end of the page; a ``<`` that cannot open a tag is text.
"""

from __future__ import annotations

import re
from html import unescape

_BLOCK = {"address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt", "fieldset",
          "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
          "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead", "ul", "br"}
_SKIP = {"script", "style", "head", "noscript", "template"}
# Elements whose content is raw text up to their own end tag (no tags or entities inside).
_RAW = ("script", "style")
_CELL = {"td", "th"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_CELL_MARK = "\x1f"

_NAME = re.compile(r"[a-zA-Z][^\t\n\r\f />\x00]*")
# Inside a tag, what can end it or hide a '>' from it: '>' itself, or a quoted attribute value.
_TAG_STOP = re.compile(r""">|=[\t\n\f\r ]*["']""")
# A numeric character reference beyond U+10FFFF: html.unescape would turn it into U+FFFD, but
# first into an int, which Python refuses past 4,300 digits (ValueError).
_HUGE_CHARREF = re.compile(r"&#(?:[xX]0*[0-9a-fA-F]{7,}|0*[0-9]{8,});?")
_RAW_END = {name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in _RAW}


def _tag_end(page: str, start: int) -> tuple[int, bool]:
    """Where the tag whose attributes start at ``start`` ends (just past its ``>``, or the end
    of the page when it is never closed), and whether it closes itself (``<br/>``)."""
    while True:
        stop = _TAG_STOP.search(page, start)
        if stop is None:
            return len(page), False
        if stop.group() == ">":
            return stop.end(), page[stop.start() - 1] == "/"
        close = page.find(stop.group()[-1], stop.end())
        if close < 0:
            return len(page), False
        start = close + 1


class _Text:
    """The text pieces of a page, as the tags around them shape it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.skipping = 0
        self.cells_in_row = 0

    def start(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "tr":
            self.parts.append("\n")
            self.cells_in_row = 0
        elif tag in _CELL:
            if self.cells_in_row:
                self.parts.append(_CELL_MARK)
            self.cells_in_row += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK:
            self.parts.append("\n")

    def start_end(self, tag: str) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def end(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK or tag in ("tr", "li"):
            self.parts.append("\n")

    def data(self, data: str) -> None:
        if data and not self.skipping:
            # Source newlines inside running text are layout, not structure.
            if "&" in data:
                data = unescape(_HUGE_CHARREF.sub("\ufffd", data))
            self.parts.append(data.replace("\n", " "))


def _read(page: str, out: _Text) -> None:
    i, n = 0, len(page)
    while i < n:
        lt = page.find("<", i)
        if lt < 0:
            out.data(page[i:])
            return
        out.data(page[i:lt])
        nxt = page[lt + 1:lt + 2]
        if nxt.isascii() and nxt.isalpha():  # a start tag
            name = _NAME.match(page, lt + 1)
            assert name is not None  # it starts with a letter
            tag = name.group().lower()
            i, closed = _tag_end(page, name.end())
            if closed:
                out.start_end(tag)
                continue
            out.start(tag)
            if tag in _RAW:  # its content is not markup: skip to its end tag, or the end of the page
                found = _RAW_END[tag].search(page, i)
                if found is None:
                    return
                if tag not in _SKIP:
                    out.data(page[i:found.start()])
                i = found.start()
            continue
        if nxt == "/":
            after = page[lt + 2:lt + 3]
            if after.isascii() and after.isalpha():  # an end tag
                name = _NAME.match(page, lt + 2)
                assert name is not None
                i = _tag_end(page, name.end())[0]
                out.end(name.group().lower())
                continue
            if after == ">":  # '</>' is nothing
                i = lt + 3
                continue
            if not after:  # '</' at the very end is text
                out.data(page[lt:])
                return
            i = _bogus_comment_end(page, lt + 2)
            continue
        if nxt == "!":
            if page.startswith("<!--", lt):
                close = page.find("-->", lt + 4)
                i = n if close < 0 else close + 3
                continue
            i = _bogus_comment_end(page, lt + 2)  # <!DOCTYPE ...>, <![CDATA[...]>, <![if ...]>
            continue
        if nxt == "?":
            i = _bogus_comment_end(page, lt + 2)
            continue
        out.data("<")  # a '<' that opens nothing ('서울은 <한국>의', 'a < b') is text
        i = lt + 1


def _bogus_comment_end(page: str, start: int) -> int:
    close = page.find(">", start)
    return len(page) if close < 0 else close + 1


def html_to_text(value: str) -> str:
    """Readable text of an HTML page or fragment (entities decoded, whitespace tidied)."""
    out = _Text()
    _read(value, out)
    lines = []
    for line in "".join(out.parts).split("\n"):
        cells = [_SPACES.sub(" ", cell).strip() for cell in line.split(_CELL_MARK)]
        line = " | ".join(cells).strip()
        if line and line != "-" and line.strip(" |"):
            lines.append(line)
    return "\n".join(lines)

"""HTML to readable plain text, for KorQuAD 2.x contexts (whole Wikipedia pages as HTML).

Block elements become line breaks, list items become ``- `` lines, table rows become one
line with cells separated by `` | ``, and scripts, styles and the document head vanish.
Answers are converted with the same function, so an answer that was a table cell or a
list item is found in the converted context exactly as it reads there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt", "fieldset",
          "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
          "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead", "ul", "br"}
_SKIP = {"script", "style", "head", "noscript", "template"}
_CELL = {"td", "th"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_CELL_MARK = "\x1f"


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.cells_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK or tag in ("tr", "li"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            # Source newlines inside running text are layout, not structure.
            self.parts.append(data.replace("\n", " "))


def html_to_text(value: str) -> str:
    """Readable text of an HTML page or fragment (entities decoded, whitespace tidied)."""
    parser = _TextParser()
    parser.feed(value)
    parser.close()
    lines = []
    for line in "".join(parser.parts).split("\n"):
        cells = [_SPACES.sub(" ", cell).strip() for cell in line.split(_CELL_MARK)]
        line = " | ".join(cells).strip()
        if line and line != "-" and line.strip(" |"):
            lines.append(line)
    return "\n".join(lines)

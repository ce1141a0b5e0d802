"""Markdown written by organisers and participants, as HTML a dashboard may show: CommonMark
(markdown-it, raw HTML off) cleaned by an nh3 allow-list. No images: a viewer's browser fetches
nothing from another host because of a description."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")
TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img", "area", "map"}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def to_html(source: str) -> str:
    """``source`` (Markdown) as sanitised HTML; links open no window with access to this one."""
    return nh3.clean(
        _PARSER.render(source),
        tags=set(TAGS),
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def first_paragraph(source: str, limit: int = 280) -> str:
    """The first paragraph of ``source`` as sanitised HTML, cut at ``limit`` characters of text."""
    paragraph = source.strip().split("\n\n", 1)[0].strip()
    if len(paragraph) > limit:
        paragraph = paragraph[:limit].rsplit(" ", 1)[0] + " …"
    return to_html(paragraph)

"""A notebook as one self-contained HTML page in which nothing a participant wrote can run.

nbconvert's own ``HTMLExporter(sanitize_html=True)`` is not enough (checked on nbconvert 7.17):
its ``clean_html`` filter *escapes* unknown tags (pandas' ``<thead>`` and ``<th>`` come out as
text, ``<img>`` is lost), a ``text/vnd.mermaid`` output is written unescaped (a live
``<img onerror=…>``), a notebook's widget state becomes ``<script>`` elements, and the lab
template's head loads require.js, MathJax, mermaid and the widget manager from CDNs. Its
``SanitizeHTML`` preprocessor drops SVG and cleans Markdown *before* it becomes HTML. So, in
three layers:

1. :func:`inert_notebook` rebuilds every cell and output from allow-lists: outputs keep only
   MIME types drawn without code (no ``application/javascript``, no widget views), images must
   be valid base64, SVG is cleaned as XML (:func:`clean_svg`); metadata is dropped except cell
   tags, image sizes and the language used for highlighting;
2. the exporter runs with ``sanitize_html=True`` and its ``clean_html`` filter, which the
   template applies to Markdown (after conversion), HTML outputs, raw cells and highlighted code,
   is :func:`clean_html`: an nh3 allow-list that also deletes script-like elements with their
   content (tables, images as ``data:`` URIs and plain formatting remain);
3. the page template has no script at all (:data:`TEMPLATE`).

The service sends a Content-Security-Policy that forbids scripts as well. A failed run's page
says why above the notebook (:class:`RunFailure`) and outlines the cell the run stopped in.
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import defusedxml.ElementTree
import nh3
from defusedxml import DefusedXmlException
from nbconvert import HTMLExporter
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

#: Output MIME types that render without running anything (after cleaning).
SAFE_MIME_TYPES = frozenset(
    {"text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml"}
)
_RASTER_TYPES = frozenset({"image/png", "image/jpeg"})

#: The lab template without a single ``<script>``: no require.js, widgets, MathJax or mermaid.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
.coop-failure { margin: 16px; padding: 12px 16px; border-left: 6px solid #c62828; background-color: #fdecea; }
.coop-failure p { margin: 4px 0; }
.coop-failure a { color: #0d47a1; text-decoration: underline; }
.coop-on-purpose { color: #4a4a4a; font-style: italic; }
body.jp-Notebook .jp-Cell.celltag_coop-failing-cell { outline: 3px solid #c62828; outline-offset: 4px; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.coop_notice | default("") }}
{%- endblock body_header -%}
"""
#: The tag, and so the class, of the cell a failed run stopped in: only the page sets it.
FAILING_TAG = "coop-failing-cell"
FAILING_CLASS = f"celltag_{FAILING_TAG}"
#: papermill's error banners (markdown cells): the page's own notice says it instead.
PAPERMILL_BANNER = "papermill-error-cell-tag"

# --- HTML fragments ------------------------------------------------------------------------------

_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
        "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
        "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "u", "ul", "var",
    }
)  # fmt: skip
#: Elements removed together with everything inside them (other unknown tags keep their text).
_REMOVED_WITH_CONTENT = (
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "template",
    "noscript", "noembed", "noframes", "svg", "math", "title", "base", "link", "meta",
)  # fmt: skip
_ATTRIBUTES: dict[str, frozenset[str]] = {
    "*": frozenset({"class", "title", "style"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "table": frozenset({"border"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
    "ol": frozenset({"start"}),
}
_IMAGE_URL = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE)
_LINK_URL = re.compile(r"(?:https?://|mailto:|#)", re.IGNORECASE)


#: Style properties kept (bleach's CSS allow-list, less ``cursor``: its ``url()`` fetched images).
_STYLE_PROPERTIES = frozenset(
    {
        "azimuth", "background-color", "border-bottom-color", "border-collapse", "border-color",
        "border-left-color", "border-right-color", "border-top-color", "clear", "color", "direction",
        "display", "elevation", "float", "font", "font-family", "font-size", "font-style",
        "font-variant", "font-weight", "height", "letter-spacing", "line-height", "overflow", "pause",
        "pause-after", "pause-before", "pitch", "pitch-range", "richness", "speak", "speak-header",
        "speak-numeral", "speak-punctuation", "speech-rate", "stress", "text-align", "text-decoration",
        "text-indent", "unicode-bidi", "vertical-align", "voice-family", "volume", "white-space", "width",
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap",
        "stroke-linejoin", "stroke-opacity",
    }
)  # fmt: skip


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """The value kept for an allow-listed attribute, or ``None`` to drop it."""
    if name == "src":
        return value if _IMAGE_URL.match(value) else None
    if name == "href":
        return value if _LINK_URL.match(value) else None
    return value


# Rust-backed and immutable, so one cleaner serves every thread.
_CLEANER = nh3.Cleaner(
    tags=set(_TAGS),
    clean_content_tags=set(_REMOVED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
    attribute_filter=_filter_attribute,
    url_schemes={"http", "https", "mailto", "data"},  # data: only where _IMAGE_URL matches
    strip_comments=True,
    link_rel=None,
    filter_style_properties=set(_STYLE_PROPERTIES),
)


def clean_html(fragment: object) -> str:
    """An HTML fragment with only formatting, tables, links and ``data:`` images left.

    Script-like elements go with their content; other unknown tags are stripped (their text
    stays, escaped); attributes are allow-listed, ``style`` down to :data:`_STYLE_PROPERTIES`.
    """
    return _CLEANER.clean(fragment.decode() if isinstance(fragment, bytes) else str(fragment))


# --- SVG -----------------------------------------------------------------------------------------

_SVG = "http://www.w3.org/2000/svg"
_SVG_REMOVED = frozenset(
    {"script", "foreignobject", "iframe", "object", "embed", "handler", "listener", "set", "animate",
     "animatemotion", "animatetransform", "animatecolor"}
)  # fmt: skip
_ACTIVE_VALUE = re.compile(r"javascript:|vbscript:|data:text/html", re.IGNORECASE)
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def clean_svg(text: str) -> str | None:
    """The SVG without scripts, foreign content, animations, event handlers or active URLs;
    ``None`` when it is not a well-formed SVG document (entity declarations are refused)."""
    try:
        root = defusedxml.ElementTree.fromstring(text)
    except (ET.ParseError, DefusedXmlException):
        return None
    if root.tag != f"{{{_SVG}}}svg":
        return None
    for parent in list(root.iter()):  # a list: the loop removes elements
        for child in list(parent):
            if not isinstance(child.tag, str) or _local(child.tag) in _SVG_REMOVED:
                parent.remove(child)
    for element in root.iter():
        for name, value in list(element.attrib.items()):
            local = _local(name)
            plain = _URL_NOISE.sub("", value)
            if (
                local.startswith("on")
                or _ACTIVE_VALUE.search(plain)
                or (local == "href" and not (plain.startswith("#") or _IMAGE_URL.match(plain)))
            ):
                del element.attrib[name]
    return ET.tostring(root, encoding="unicode")  # prefixes become ns0:…, which XML allows


def _local(name: str) -> str:
    return name.rpartition("}")[2].lower()


# --- the notebook --------------------------------------------------------------------------------

_CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}\Z")


def inert_notebook(notebook: NotebookNode) -> NotebookNode:
    """A copy of ``notebook`` rebuilt from allow-lists (see the module's docstring)."""
    cells = [rebuilt for cell in notebook.get("cells", []) if (rebuilt := _inert_cell(cell)) is not None]
    language = notebook.get("metadata", {}).get("language_info", {})
    kept = {k: language[k] for k in ("name", "pygments_lexer") if isinstance(language.get(k), str)}
    return new_notebook(cells=cells, metadata={"language_info": kept} if "name" in kept else {})


def _inert_cell(cell: dict[str, Any]) -> NotebookNode | None:
    source = _text(cell.get("source", ""))
    metadata = cell.get("metadata", {})
    tags = [t for t in metadata.get("tags", []) if isinstance(t, str)]
    identity = {"id": cell["id"]} if _CELL_ID.match(str(cell.get("id", ""))) else {}
    kind = cell.get("cell_type")
    if kind == "markdown":
        return new_markdown_cell(source, metadata={"tags": tags}, **identity)
    if kind == "raw":
        raw_type = metadata.get("raw_mimetype")
        kept = {"raw_mimetype": raw_type} if isinstance(raw_type, str) else {}
        return new_raw_cell(source, metadata={"tags": tags, **kept}, **identity)
    if kind == "code":
        outputs = [out for o in cell.get("outputs", []) if (out := _inert_output(o)) is not None]
        return new_code_cell(
            source,
            metadata={"tags": tags},
            execution_count=_count(cell.get("execution_count")),
            outputs=outputs,
            **identity,
        )
    return None


def _inert_output(output: dict[str, Any]) -> NotebookNode | None:
    kind = output.get("output_type")
    if kind == "stream":
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        return new_output("stream", name=name, text=_text(output.get("text", "")))
    if kind == "error":
        return new_output(
            "error",
            ename=str(output.get("ename", "")),
            evalue=str(output.get("evalue", "")),
            traceback=[_text(line) for line in output.get("traceback", [])],
        )
    if kind not in ("display_data", "execute_result"):
        return None
    data: dict[str, str] = {}
    for mime, value in output.get("data", {}).items():
        if mime not in SAFE_MIME_TYPES:
            continue  # application/javascript, widget views, mermaid, anything unknown
        kept = _inert_value(mime, _text(value))
        if kept is not None:
            data[mime] = kept
    if not data:
        return None
    metadata = {
        mime: sizes
        for mime in data.keys() & _RASTER_TYPES
        if (sizes := _image_size(output.get("metadata", {}).get(mime)))
    }
    if kind == "execute_result":
        return new_output(
            kind, data=data, metadata=metadata, execution_count=_count(output.get("execution_count"))
        )
    return new_output(kind, data=data, metadata=metadata)


def _inert_value(mime: str, value: str) -> str | None:
    if mime in _RASTER_TYPES:
        packed = "".join(value.split())
        try:
            base64.b64decode(packed, validate=True)
        except (binascii.Error, ValueError):
            return None
        return packed
    if mime == "image/svg+xml":
        return clean_svg(value)
    return value  # text: escaped or cleaned by the template's filters


def _image_size(metadata: object) -> dict[str, int | float]:
    if not isinstance(metadata, dict):
        return {}
    return {
        key: value
        for key in ("width", "height")
        if isinstance(value := metadata.get(key), int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    }


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: object) -> str:
    """nbformat allows a list of lines wherever it allows a string."""
    return "".join(str(v) for v in value) if isinstance(value, list) else str(value)


@dataclass(frozen=True)
class RunFailure:
    """Why a run did not score, shown above its executed notebook."""

    failure_class: str
    reason: str
    ran: bool = True  # False: refused before it started, the page shows the committed notebook


def render_notebook(
    notebook: NotebookNode,
    *,
    title: str,
    links: Sequence[tuple[str, str]] = (),
    failure: RunFailure | None = None,
) -> str:
    """``notebook`` as a complete HTML page (lab look, inline CSS) in which nothing can run;
    ``links`` (URL, label) head it as plain links; with ``failure``, why the run failed and
    where it stopped."""
    exporter = HTMLExporter(  # one per call: the exporter keeps per-notebook state
        template_name="lab",
        raw_template=TEMPLATE,
        sanitize_html=True,
        filters={"clean_html": clean_html},
    )
    shown = inert_notebook(_marked(notebook, failed=failure is not None and failure.ran))
    resources: dict[str, Any] = {"metadata": {"name": title}}
    if failure is not None:
        resources["coop_notice"] = _failure_notice(failure, shown, _on_purpose(notebook))
    page, _resources = exporter.from_notebook_node(shown, resources=resources)
    if not links:
        return page
    style = "color: #0969da; text-decoration: underline"
    anchors = " · ".join(
        f'<a href="{escape(url)}" style="{style}">{escape(label)}</a>' for url, label in links
    )
    nav = (
        f'<nav class="coop-links" style="padding: .6em 1em; font: 15px system-ui, sans-serif">{anchors}</nav>'
    )
    return re.sub(r"<body[^>]*>", lambda opened: opened[0] + nav, page, count=1)


def _marked(notebook: NotebookNode, *, failed: bool) -> NotebookNode:
    """A copy in which no cell claims the failing cell's tag; for a failed run, without
    papermill's banners and with the cell papermill marked failed (or running, when the run was
    stopped) tagged."""
    marked = copy.deepcopy(notebook)
    cells = []
    for cell in marked.get("cells", []):
        metadata = cell.get("metadata", {})
        tags = [t for t in metadata.get("tags", []) if t != FAILING_TAG]
        if failed and PAPERMILL_BANNER in tags:
            continue
        if isinstance(metadata, dict):
            metadata["tags"] = tags
        cells.append(cell)
    marked["cells"] = cells
    stopped = [c for c in cells if _papermill_status(c) in {"failed", "running"}]
    if failed and stopped:
        stopped[0]["metadata"]["tags"].append(FAILING_TAG)
    return marked


def _papermill_status(cell: dict[str, Any]) -> object:
    papermill = cell.get("metadata", {}).get("papermill")
    return papermill.get("status") if isinstance(papermill, dict) else None


def _on_purpose(notebook: NotebookNode) -> str | None:
    """Why the notebook fails on purpose, as its author says (the demo's examples do)."""
    coop = notebook.get("metadata", {}).get("coop")
    why = coop.get("fails_on_purpose") if isinstance(coop, dict) else None
    return why if isinstance(why, str) and why.strip() else None


def _failure_notice(failure: RunFailure, shown: NotebookNode, on_purpose: str | None) -> str:
    """The notice above the notebook; every text in it escaped."""
    parts = [
        f"<p><strong>This run failed ({escape(failure.failure_class)}).</strong> {escape(failure.reason)}</p>"
    ]
    failing = [c for c in shown.cells if FAILING_TAG in c.metadata.get("tags", [])]
    if not failure.ran:
        parts.append("<p>The notebook did not run: it is shown as committed.</p>")
    elif failing:
        anchor = escape(f"cell-id={failing[0].id}")
        parts.append(f'<p><a href="#{anchor}">Go to the cell where it stopped</a> (outlined in red).</p>')
    else:
        parts.append("<p>No cell raised an error: the notebook ran to its end.</p>")
    if on_purpose is not None:
        parts.append(
            '<p class="coop-on-purpose">This failure is deliberate: the demo\'s example of a common '
            f"mistake ({escape(on_purpose)}).</p>"
        )
    return f'<div class="coop-failure" role="alert">{"".join(parts)}</div>'

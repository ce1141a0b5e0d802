"""The notebook page: a hostile corpus in which nothing executable may survive, legitimate outputs
that must (tables, images, formatted text), and the cleaning steps one by one.

``executable_parts`` and ``png_base64`` are shared with ``tests/service/test_notebook_views.py``.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from scorer.render.html import (
    FAILING_CLASS,
    RunFailure,
    clean_html,
    clean_svg,
    inert_notebook,
    render_notebook,
)

_ELEMENTS_THAT_RUN = ("script", "iframe", "frame", "object", "embed", "applet", "base", "form", "link")
_ACTIVE_URL = re.compile(r"javascript:|vbscript:|data:text/html", re.IGNORECASE)


def executable_parts(page: str) -> list[str]:
    """Everything in ``page`` that could run or load code in a browser (empty: inert)."""
    soup = BeautifulSoup(page, "html.parser")
    found = [str(e)[:120] for e in soup.find_all(_ELEMENTS_THAT_RUN)]
    found += [str(e)[:120] for e in soup.find_all("meta", attrs={"http-equiv": True})]
    found += [str(e)[:120] for e in soup.body.find_all("style")] if soup.body else []
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            text = " ".join(value) if isinstance(value, list) else value
            if name.lower().startswith("on") or _ACTIVE_URL.search(re.sub(r"[\x00-\x20]", "", text)):
                found.append(f"<{element.name} {name}={text[:80]!r}>")
            if name == "src" and text.startswith("data:image/svg+xml;base64,"):
                found += executable_parts(base64.b64decode(text.partition(",")[2]).decode())
    return found


def png_base64(width: int = 6, height: int = 4) -> str:
    """A real PNG (solid red), base64-encoded as notebooks carry it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


SVG_NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def _html(payload: str) -> nbformat.NotebookNode:
    return new_code_cell("x", outputs=[new_output("display_data", data={"text/html": payload})])


def _data(data: dict, **extra: object) -> nbformat.NotebookNode:
    return new_code_cell("x", outputs=[new_output("display_data", data=data, **extra)])


#: One cell per way of getting a script into a viewer's browser.
HOSTILE = [
    pytest.param(_html("<script>window.pwned = 1; document.title = 'pwned'</script>"), id="html-script"),
    pytest.param(_html('<img src=x onerror="window.pwned = 1">'), id="html-img-onerror"),
    pytest.param(_html('<iframe srcdoc="<script>parent.pwned = 1</script>"></iframe>'), id="html-iframe"),
    pytest.param(
        _html('<object data="data:text/html,<script>1</script>"></object><embed src=x>'), id="object"
    ),
    pytest.param(_html('<a href="data:text/html,<script>window.pwned=1</script>">x</a>'), id="data-link"),
    pytest.param(_html('<a href="java&#x09;script:window.pwned=1">x</a>'), id="entity-link"),
    pytest.param(_html('<details open ontoggle="window.pwned = 1">x</details>'), id="details-ontoggle"),
    pytest.param(_html('<meta http-equiv="refresh" content="0;url=javascript:window.pwned=1">'), id="meta"),
    pytest.param(_html('<form action="javascript:window.pwned=1"><button>go</button></form>'), id="form"),
    pytest.param(_html('<base href="javascript:/"><style>body { display: none }</style>'), id="base-style"),
    pytest.param(
        _html("<math><mtext><table><mglyph><style><img src=x onerror=window.pwned=1>"), id="mxss-math"
    ),
    pytest.param(_html("<svg><animate onbegin=window.pwned=1 attributeName=x dur=1s>"), id="inline-svg"),
    pytest.param(
        _html('<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">'), id="svg-in-img"
    ),
    pytest.param(new_markdown_cell("[click](javascript:window.pwned=1)"), id="markdown-js-link"),
    pytest.param(new_markdown_cell("[click](JaVaScRiPt:window.pwned=1)"), id="markdown-js-link-case"),
    pytest.param(new_markdown_cell('<img src=x onerror="window.pwned=1">'), id="markdown-img"),
    pytest.param(new_markdown_cell("<script>window.pwned = 1</script>"), id="markdown-script"),
    pytest.param(new_raw_cell("<script>window.pwned = 1</script>"), id="raw-cell"),
    pytest.param(_data({"application/javascript": "window.pwned = 1"}), id="application-javascript"),
    pytest.param(_data({"text/markdown": "<script>window.pwned=1</script>"}), id="markdown-output"),
    pytest.param(
        _data({"text/vnd.mermaid": '<img src=x onerror="window.pwned=1">', "text/plain": "m"}),
        id="mermaid",  # nbconvert writes this one unescaped even with sanitize_html=True
    ),
    pytest.param(
        _data(
            {
                "application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2},
                "text/plain": "IntSlider()",
            }
        ),
        id="widget-view",
    ),
    pytest.param(
        _data(
            {
                "image/svg+xml": f'<svg {SVG_NS} onload="window.pwned=1"><script>window.pwned=2</script>'
                '<a xlink:href="javascript:window.pwned=3"><rect width="5" height="5"/></a>'
                '<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="x"/></foreignObject>'
                '<set attributeName="onmouseover" to="window.pwned=4"/></svg>'
            }
        ),
        id="svg-script",
    ),
    pytest.param(
        _data(
            {"image/png": '" onerror="window.pwned=1'}, metadata={"filenames": {"image/png": "javascript:1"}}
        ),
        id="png-not-base64",
    ),
    pytest.param(
        new_code_cell("x", metadata={"tags": ['"><script>window.pwned=1</script>']}), id="cell-tag-quote"
    ),
]


@pytest.mark.parametrize("cell", HOSTILE)
def test_nothing_executable_survives(cell):
    page = render_notebook(new_notebook(cells=[new_markdown_cell("# before"), cell]), title="hostile")
    assert executable_parts(page) == []
    assert re.search(r"<script", page, re.IGNORECASE) is None
    assert "<h1" in page and "before" in page  # the rest of the notebook is still drawn


def test_the_checker_itself_sees_what_runs():
    page = (
        "<html><body><script>1</script><img src=x onerror=1><a href='java\tscript:1'>x</a>"
        '<iframe></iframe><img src="data:image/svg+xml;base64,'
        + base64.b64encode(b"<svg onload='1'/>").decode()
        + '"></body></html>'
    )
    assert len(executable_parts(page)) == 5


def test_whole_hostile_notebook_renders_in_one_page():
    cells = [p.values[0] for p in HOSTILE]
    page = render_notebook(new_notebook(cells=cells), title="<script>document.title='pwned'</script>")
    assert executable_parts(page) == []
    assert "<title>&lt;script&gt;" in page


def test_legitimate_outputs_stay():
    table = pd.DataFrame({"alpha": [1, 2], "beta": [3.5, 4.5]}).to_html()
    svg = f'<svg {SVG_NS} width="20" height="10"><rect width="20" height="10" fill="blue"/></svg>'
    notebook = new_notebook(
        metadata={"language_info": {"name": "python"}},
        cells=[
            new_markdown_cell("# Result\nSee [the paper](https://example.org/p) and *this* `code`."),
            new_code_cell(
                "df",
                execution_count=3,
                outputs=[
                    new_output(
                        "execute_result", data={"text/html": table, "text/plain": "df"}, execution_count=3
                    ),
                    new_output(
                        "display_data",
                        data={"image/png": png_base64()},
                        metadata={"image/png": {"width": 60}},
                    ),
                    new_output("display_data", data={"image/svg+xml": svg}),
                    new_output("stream", name="stdout", text="loss 0.25 <ok>\n"),
                    new_output(
                        "error",
                        ename="ValueError",
                        evalue="bad",
                        traceback=["\x1b[31mValueError\x1b[0m: bad"],
                    ),
                ],
            ),
        ],
    )
    page = render_notebook(notebook, title="fine")
    soup = BeautifulSoup(page, "html.parser")
    [rendered] = soup.select("table.dataframe")
    assert [th.get_text() for th in rendered.select("thead th")] == ["", "alpha", "beta"]
    assert [td.get_text() for td in rendered.select("tbody td")] == ["1", "3.5", "2", "4.5"]
    images = [img["src"] for img in soup.select("img")]
    assert f"data:image/png;base64,{png_base64()}" in images
    assert soup.select_one('img[src^="data:image/png"]')["width"] == "60"
    [svg_src] = [src for src in images if src.startswith("data:image/svg+xml;base64,")]
    assert 'fill="blue"' in base64.b64decode(svg_src.partition(",")[2]).decode()
    assert soup.select_one('a[href="https://example.org/p"]').get_text() == "the paper"
    assert soup.find("em").get_text() == "this"
    assert "loss 0.25 &lt;ok&gt;" in page and "ValueError" in page
    assert "In\xa0[3]:" in soup.get_text()
    assert executable_parts(page) == []


def test_clean_html_removes_script_like_elements_with_their_content():
    cleaned = clean_html("<p>a<script>document.title = 1</script><style>p {}</style><b onclick=x>b</b></p>")
    assert cleaned == "<p>a<b>b</b></p>"


def test_clean_html_keeps_only_allow_listed_style_properties():
    cleaned = clean_html(
        '<span style="text-align: right; color: red; position: fixed; cursor: url(https://t.example/c.png);'
        ' background-image: url(https://t.example/b.png); behavior: url(x.htc)">1</span>'
    )
    assert cleaned == '<span style="text-align:right;color:red">1</span>'


def test_clean_html_parses_as_a_browser_does():
    # a browser ends <noscript> at the first </noscript>: the <img> after it is real, and bare
    cleaned = clean_html('<noscript><p title="</noscript><img src=x onerror=alert(1)>">')
    assert cleaned == '<img>"&gt;'


def test_clean_html_keeps_only_raster_data_images_and_web_links():
    png = f"data:image/png;base64,{png_base64()}"
    cleaned = clean_html(
        f'<img src="{png}" alt="plot"><img src="https://tracker.example/p.gif">'
        '<a href="mailto:a@b.org">m</a><a href="/relative">r</a><a href="#top">t</a>'
    )
    soup = BeautifulSoup(cleaned, "html.parser")
    assert [img.attrs for img in soup.find_all("img")] == [{"src": png, "alt": "plot"}, {}]
    assert [a.get("href") for a in soup.find_all("a")] == ["mailto:a@b.org", None, "#top"]


def test_clean_svg_keeps_drawing_and_drops_what_runs():
    cleaned = clean_svg(
        f'<svg {SVG_NS} viewBox="0 0 10 10" onload="x()"><script>x()</script>'
        '<a xlink:href="javascript:x()"><rect width="5" height="5" fill="red"/></a>'
        '<use xlink:href="#r"/><set attributeName="onclick" to="x()"/></svg>'
    )
    assert cleaned is not None
    assert "script" not in cleaned and "onload" not in cleaned and "javascript" not in cleaned
    assert "set" not in cleaned.replace("xmlns", "")
    assert 'viewBox="0 0 10 10"' in cleaned and 'fill="red"' in cleaned and '"#r"' in cleaned


@pytest.mark.parametrize(
    "svg",
    [
        "<svg><rect/>",  # not well-formed
        "<svg><rect/></svg>",  # no SVG namespace: browsers would not draw it as an image anyway
        '<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>',
        f'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]><svg {SVG_NS}>&a;</svg>',  # entities are refused
    ],
)
def test_clean_svg_refuses_what_is_not_a_plain_svg(svg):
    assert clean_svg(svg) is None


def test_inert_notebook_keeps_tags_sizes_and_language_but_no_other_metadata():
    output = new_output(
        "display_data",
        data={"image/png": png_base64(), "application/javascript": "1"},
        metadata={"image/png": {"width": 10, "height": float("nan")}, "filenames": {}},
    )
    code = new_code_cell("1", metadata={"collapsed": True}, outputs=[output])
    markdown = new_markdown_cell("a", attachments={"x.png": {"image/png": png_base64()}})
    notebook = new_notebook(
        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}, "widgets": {"x": 1}},
        cells=[code, markdown],
    )
    code.execution_count = True  # JSON true is not a count; what a hand-edited notebook may hold
    code.metadata.tags = ["keep", 3]
    inert = inert_notebook(notebook)
    nbformat.validate(inert)
    assert inert.metadata == {"language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    inert_code, inert_markdown = inert.cells
    assert inert_code.metadata == {"tags": ["keep"]} and inert_code.execution_count is None
    [kept] = inert_code.outputs
    assert set(kept.data) == {"image/png"} and kept.metadata == {"image/png": {"width": 10}}
    assert "attachments" not in inert_markdown and inert_code.id == code.id


# --- a failed run: why, and where ----------------------------------------------------------------

REASON = "ValueError: no fit (in cell 4: \"raise ValueError('no fit')\")"


def failed_run() -> nbformat.NotebookNode:
    """An executed notebook as papermill leaves a failed run: its error banners, the cells that
    ran, the failing one (marked ``failed``, with the error), the cells it never reached."""
    banner = new_markdown_cell(
        'An Exception was encountered at <a href="#papermill-error-cell">In [2]</a>.',
        metadata={"tags": ["papermill-error-cell-tag"]},
    )
    ran = new_code_cell("x = 1", execution_count=1, metadata={"papermill": {"status": "completed"}})
    error = new_output("error", ename="ValueError", evalue="no fit", traceback=["ValueError: no fit"])
    failing = new_code_cell(
        "raise ValueError('no fit')",
        execution_count=2,
        outputs=[error],
        metadata={"papermill": {"status": "failed", "exception": True}},
        id="model",
    )
    pending = new_code_cell("print('never')", metadata={"papermill": {"status": "pending"}})
    return new_notebook(cells=[banner, new_markdown_cell("# Fit"), ran, failing, pending])


def test_a_failed_run_says_why_and_highlights_the_failing_cell():
    page = render_notebook(failed_run(), title="t", failure=RunFailure("exception", REASON))
    soup = BeautifulSoup(page, "html.parser")
    notice = soup.select_one(".coop-failure")
    assert notice is not None and notice.find_parent("main") is not None
    assert "This run failed (exception)" in notice.text and REASON in notice.text
    [failing] = soup.select(f".{FAILING_CLASS}")
    assert "raise ValueError('no fit')" in failing.text and "ValueError: no fit" in failing.text
    assert notice.select_one("a")["href"] == f"#{failing['id']}"  # a link to it
    assert "An Exception was encountered" not in page  # papermill's banners: the notice says it
    assert any(f".{FAILING_CLASS}" in style.text for style in soup.head.find_all("style"))  # head CSS
    assert executable_parts(page) == []


def test_a_deliberate_example_says_so_on_its_page():
    notebook = failed_run()
    notebook.metadata["coop"] = {"fails_on_purpose": "it reads the data from Dave's laptop"}
    page = render_notebook(notebook, title="t", failure=RunFailure("exception", REASON))
    notice = BeautifulSoup(page, "html.parser").select_one(".coop-failure")
    assert "This failure is deliberate: the demo's example of a common mistake" in notice.text
    assert "it reads the data from Dave's laptop" in notice.text
    scored = BeautifulSoup(render_notebook(notebook, title="t"), "html.parser")
    assert scored.select(".coop-failure") == [] and scored.select(f".{FAILING_CLASS}") == []


def test_the_failure_text_is_text_and_no_cell_can_claim_to_be_the_failing_one():
    notebook = failed_run()
    notebook.cells[2].metadata["tags"] = ["coop-failing-cell"]
    notebook.metadata["coop"] = {"fails_on_purpose": "<img src=x onerror=alert(1)>"}
    page = render_notebook(notebook, title="t", failure=RunFailure("exception", "<script>alert(1)</script>"))
    soup = BeautifulSoup(page, "html.parser")
    assert "<script>alert(1)</script>" in soup.select_one(".coop-failure").text  # shown, as text
    assert executable_parts(page) == []
    [failing] = soup.select(f".{FAILING_CLASS}")
    assert "raise ValueError" in failing.text


def test_a_run_that_failed_after_its_last_cell_highlights_no_cell():
    notebook = failed_run()
    notebook.cells[3].metadata["papermill"] = {"status": "completed"}
    reason = "predictions.csv has missing values (NaN) in y (3 rows)"
    page = render_notebook(notebook, title="t", failure=RunFailure("predictions_invalid", reason))
    soup = BeautifulSoup(page, "html.parser")
    assert reason in soup.select_one(".coop-failure").text and soup.select(f".{FAILING_CLASS}") == []

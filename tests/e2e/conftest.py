"""Browser end-to-end fixtures: Playwright driving Debian's chromium against a real hub.

- ``curve_hub`` (one per module): ``hub_config/jupyterhub_config.py`` as shipped (through
  :class:`tests.hub.conftest.RunningHub`: loopback ports held for it, the real proxy, ``coop serve``
  with its dispatcher and the bubblewrap sandbox, the Voila dashboards) serving one small
  challenge, the scaffold template (:func:`tests.conftest.make_challenge`): its open phase
  scores a notebook in seconds and takes 20 submissions a day, with no minimum interval.
- ``browser`` (one per module): ``/usr/bin/chromium``, headless; never a downloaded browser.
- ``person(name)``: a :class:`Person` with a browser context of their own (their own hub
  cookie), who logs in through the hub's login page and works in JupyterLab as a user does:
  menus, Easy start, cell editors, a terminal, the widgets' buttons.

Screenshots go to ``test-artifacts/e2e/<step>.png`` (git-ignored), and a failing test leaves
``failed-<test>-<person>.png`` for each person it used. Waits use Playwright's auto-waiting
locators with generous timeouts: they bound how long to wait, they never judge speed.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from scorer.challenge.phase_data import phase_root
from tests.conftest import ChallengeFixture, make_challenge
from tests.hub.conftest import ROOT, RunningHub

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
PHASE = "phase-1"
RUN_LIMITS = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}
#: Milliseconds: a server's spawn and JupyterLab's first load; any other step of the UI; a score.
SPAWN_TIMEOUT = 300_000
UI_TIMEOUT = 180_000
SCORE_TIMEOUT = 300_000
#: What the Submit widget's headline says at each status (coop_widgets.submit), in lifecycle order.
HEADLINES = {
    "saving": re.compile(r"^Saving "),
    "committing": re.compile(r"^Committing"),
    "pushing": re.compile(r"^Pushing "),
    "queued": re.compile(r"^Submission \d+ waits for a worker"),
    "running": re.compile(r"^Submission \d+ is running"),
    "scored": re.compile(r"^Submission \d+ scored\."),
    "failed": re.compile(r"^Submission \d+ failed"),
}
#: JupyterLab's plugin that asks each new user "get notified about official Jupyter news?";
#: the embedded hub disables it (hub_config/jupyter/labconfig/page_config.json).
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
NEWS_PROMPT = "notified about official Jupyter news"
PAGE_CONFIG = "() => JSON.parse(document.getElementById('jupyter-config-data').textContent)"
FINISHED = re.compile(r"^Submission (\d+) (scored|failed)")
#: Records every new text the headline of the page's last Submit widget shows, in order.
WATCH_HEADLINE = """
() => {
  const button = [...document.querySelectorAll('.widget-button')].filter(
    (b) => b.textContent.trim() === 'Submit' && b.offsetParent !== null).pop();
  const box = button.closest('.widget-vbox');
  const headline = box.querySelector(':scope > .widget-html .widget-html-content');
  const seen = (window.coopHeadlines = []);
  let last = headline.innerText.trim();
  if (window.coopWatch) window.coopWatch.disconnect();
  window.coopWatch = new MutationObserver(() => {
    const text = headline.innerText.trim();
    if (text && text !== last) seen.push((last = text));
  });
  window.coopWatch.observe(headline, {subtree: true, childList: true, characterData: true});
}
"""


@dataclass
class CurveHub:
    """The running hub and the challenge it serves."""

    hub: RunningHub
    challenge: ChallengeFixture

    @property
    def challenge_id(self) -> str:
        return self.challenge.challenge_id

    @property
    def served(self) -> Path:
        return self.hub.served(self.challenge_id)

    @property
    def inputs(self) -> dict[str, bytes]:
        """The files of the phase's inputs as the scorer holds them (what runs see)."""
        settings = self.challenge.settings
        return files(phase_root(settings.data_root, self.challenge_id, PHASE) / "inputs")

    def git_served(self, *args: str) -> subprocess.CompletedProcess[str]:
        """git in the scorer's served repository (read-only uses: what was pushed)."""
        done = subprocess.run(["git", *args], cwd=self.served, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done


@pytest.fixture(scope="module")
def curve_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CurveHub]:
    root = tmp_path_factory.mktemp("e2e")
    challenge = make_challenge(
        root, edit={"phases.0.limits": RUN_LIMITS, "phases.0.submissions": {"per_day": 20}}
    )
    home = Path(challenge.settings.home)
    running = RunningHub.on_held_ports(home, [challenge.challenge_id])
    try:
        running.start()
        yield CurveHub(running, challenge)
    finally:
        running.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=UI_TIMEOUT)  # assertions wait like locators do (default: 5 s)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Person:
    """Someone at their browser: one context (cookies) and one tab on the hub."""

    def __init__(self, name: str, curve: CurveHub, browser: Browser) -> None:
        self.name = name
        self.curve = curve
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(UI_TIMEOUT)

    @property
    def url(self) -> str:
        return self.curve.hub.url

    @property
    def home(self) -> Path:
        return self.curve.hub.user_home(self.name)

    @property
    def clone(self) -> Path:
        return self.home / "challenges" / self.curve.challenge_id

    @property
    def notebook(self) -> Path:
        return self.clone / "solutions" / self.name / f"{PHASE}.ipynb"

    @property
    def inputs(self) -> dict[str, bytes]:
        """The files of the folder the baseline reads (``inputs_dir = "data"``, beside it)."""
        return files(self.notebook.parent / "data")

    def screenshot(self, step: str) -> None:
        self.page.screenshot(path=ARTIFACTS / f"{step}.png")

    def log_in(self) -> None:
        """Through the hub's login page with the demo password; once spawned, the server's
        start page opens (its default URL), and its link opens JupyterLab."""
        self.page.goto(f"{self.url}/hub/login")
        self.page.fill("#username_input", self.name)
        self.page.fill("#password_input", self.curve.hub.password)
        self.page.click("#login_submit")
        self.page.locator("#coop-start, #jp-main-dock-panel").first.wait_for(timeout=SPAWN_TIMEOUT)
        if self.page.locator("#coop-start").count():
            self.page.click("#coop-open-lab")
        self.page.locator("#jp-main-dock-panel").wait_for(timeout=SPAWN_TIMEOUT)
        disabled = self.page.evaluate(PAGE_CONFIG)["disabledExtensions"]
        assert ANNOUNCEMENTS in disabled, f"JupyterLab would ask about its news: {disabled}"

    def assert_no_news_prompt(self) -> None:
        """No participant is asked about Jupyter news: the prompt, once shown, stays until answered."""
        expect(self.page.get_by_text(NEWS_PROMPT)).to_have_count(0)

    def easy_start(self) -> Locator:
        """Follow the Easy start link (it also puts the phase's inputs where the notebook reads
        them); the notebook it opens, once its kernel is idle."""
        self.page.goto(f"{self.url}/hub/user-redirect/coop/start/{self.curve.challenge_id}")
        self.idle()
        return self.notebook_panel()

    def new_notebook(self, source: str) -> None:
        """A new notebook from the Launcher, in the folder the file browser shows, ``source`` run."""
        self.menu("File", "New Launcher").click()
        launcher = self.page.locator(".jp-Launcher-section:visible", has_text="Notebook")
        launcher.locator(".jp-LauncherCard").first.click()
        self.idle()
        self.replace_cell(0, source)
        self.page.keyboard.press("Shift+Enter")

    def notebook_panel(self) -> Locator:
        return self.page.locator(".jp-NotebookPanel:visible")

    def idle(self) -> None:
        self.page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()

    def menu(self, top: str, *path: str) -> Locator:
        """Open the menu bar's ``top`` menu and hover down ``path`` (submenus); the last item."""
        item = self.page.locator(".lm-MenuBar-item", has_text=exactly(top))
        item.click()
        for label in path:
            item = self.page.locator(".lm-Menu-item:visible").filter(
                has=self.page.locator(".lm-Menu-itemLabel", has_text=exactly(label))
            )
            item.hover()
        return item

    def turn_off_autosave(self) -> None:
        """Settings › Autosave Documents (on by default): edits stay unsaved until someone saves.

        The command changes the state only once JupyterLab has saved the setting, and an open
        menu shows the state of when it opened: the menu is opened again until it shows off."""
        item = self.menu("Settings", "Autosave Documents")
        expect(item).to_have_attribute("aria-checked", "true")
        item.click()
        wait_until(lambda: not self.menu_checked("Settings", "Autosave Documents"), "autosave off")

    def menu_checked(self, top: str, *path: str) -> bool:
        """Whether a menu item shows checked (``aria-checked``, absent when not); closes the menu."""
        checked = self.menu(top, *path).get_attribute("aria-checked") == "true"
        self.page.keyboard.press("Escape")
        return checked

    def run_all(self) -> None:
        self.menu("Run", "Run All Cells").click()

    def cell_editor(self, index: int) -> Locator:
        return self.notebook_panel().locator(".jp-Cell").nth(index).locator(".cm-content")

    def replace_cell(self, index: int, source: str) -> None:
        """Select the cell's whole text and type ``source`` over it (text inserted as typed,
        without the editor's auto-indent and bracket closing)."""
        self.cell_editor(index).click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(source)
        self.page.keyboard.press("Escape")  # back to command mode

    def append_to_cell(self, index: int, text: str) -> None:
        self.cell_editor(index).click()
        self.page.keyboard.press("Control+End")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")

    def add_cell_below(self, index: int, source: str) -> None:
        """Select cell ``index``, insert a cell below it (``b``), type ``source`` into it and run it."""
        cells = self.notebook_panel().locator(".jp-Cell")
        before = cells.count()
        self.cell_editor(index).click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("b")
        expect(cells).to_have_count(before + 1)
        self.page.keyboard.press("Enter")
        self.page.keyboard.insert_text(source)
        self.page.keyboard.press("Shift+Enter")

    def dirty_tab(self, filename: str) -> Locator:
        """The main area's tab of ``filename`` when it has unsaved changes."""
        return self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty", has_text=filename)

    def submit_widget(self) -> Locator:
        """The last Submit widget on the page (the one the last run of its cell shows)."""
        button = self.page.locator(".widget-button:visible", has_text=exactly("Submit"))
        return self.page.locator(".widget-vbox").filter(has=button).last

    def press_submit(self) -> tuple[int, list[str]]:
        """Press Submit and wait for the score (or failure); the submission and the statuses
        its headline showed, in order (named as in :data:`HEADLINES`)."""
        button = self.submit_widget().locator(".widget-button", has_text=exactly("Submit"))
        button.wait_for()
        self.page.evaluate(WATCH_HEADLINE)
        button.click()
        self.page.wait_for_function(
            f"() => window.coopHeadlines.some((t) => /{FINISHED.pattern}/.test(t))",
            timeout=SCORE_TIMEOUT,
        )
        texts: list[str] = self.page.evaluate("window.coopHeadlines")
        statuses = [next((s for s, p in HEADLINES.items() if p.search(t)), t) for t in texts]
        finished = next(FINISHED.search(t) for t in texts if FINISHED.search(t))
        return int(finished[1]), statuses

    def open_terminal(self) -> None:
        self.menu("File", "New", "Terminal").click()
        self.page.locator(".jp-Terminal:visible .xterm-helper-textarea").wait_for(state="attached")

    def type_in_terminal(self, command: str) -> None:
        """Type a command line into the visible terminal and press Enter (keys typed before its
        shell is connected are queued by JupyterLab, not lost)."""
        self.page.locator(".jp-Terminal:visible").click()
        self.page.keyboard.type(command)
        self.page.keyboard.press("Enter")

    def close(self) -> None:
        self.context.close()


def service(curve: CurveHub, path: str, token: str | None = None) -> httpx.Response:
    """GET a route of the scorer's API through the hub's proxy (as a kernel or a visitor would)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    answer = httpx.get(f"{curve.hub.service_url}{path}", headers=headers, timeout=60)
    assert answer.status_code == 200, (path, answer.status_code, answer.text)
    return answer


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


def wait_until(condition: Callable[[], object], what: str, timeout: float = UI_TIMEOUT / 1000) -> None:
    """Poll ``condition`` (on files, git, the ledger) until true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting ({timeout:.0f} s) for {what}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def person(curve_hub: CurveHub, browser: Browser) -> Iterator[Callable[[str], Person]]:
    """``person(name)``: that person's browser (the same one for the whole module)."""
    people: dict[str, Person] = {}

    def get(name: str) -> Person:
        if name not in people:
            people[name] = Person(name, curve_hub, browser)
        return people[name]

    yield get
    try:
        for someone in people.values():
            someone.assert_no_news_prompt()
    finally:
        for someone in people.values():
            someone.close()


@pytest.fixture(scope="module")
def alice(person: Callable[[str], Person]) -> Person:
    return person("alice")


@pytest.fixture(scope="module")
def bob(person: Callable[[str], Person]) -> Person:
    return person("bob")


@pytest.fixture(scope="module")
def carol(person: Callable[[str], Person]) -> Person:
    return person("carol")


@pytest.fixture(scope="module")
def olga(person: Callable[[str], Person]) -> Person:
    """The organiser (the hub's config makes olga one)."""
    return person("olga")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, a screenshot of every person's page the test used."""
    report = yield
    if report.when == "call" and report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Person):
                with contextlib.suppress(Exception):  # the page may be gone: the report matters more
                    value.page.screenshot(path=ARTIFACTS / f"failed-{item.name}-{value.name}.png")
    return report


def scored(curve: CurveHub, user: str) -> bool:
    """``user`` has a scored submission in the challenge (none of theirs failed)."""
    path = f"api/submissions?challenge={curve.challenge_id}&person={user}"
    found = httpx.get(curve.hub.service_url + path, timeout=60).json()
    assert not [s for s in found if s["status"] == "failed"], found
    return any(s["status"] == "scored" for s in found)

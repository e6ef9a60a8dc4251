"""HTML reports: one self-contained file (nothing fetched from anywhere), well-formed, with
every part the brief lists, untrusted scenario text escaped, and rendered by a real browser.

Reports are built once per module with few replications: these tests check the page, not
the numbers in it (the analysis tests do that).
"""

from __future__ import annotations

import base64
import io
import os
import re
import shlex
import subprocess
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import spamsim as ss  # noqa: E402
from spamsim import report as rp  # noqa: E402

from .conftest import CHROMIUM_ARGS, SCENARIOS, chromium  # noqa: E402

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_report")

REPS = 20
SEED = 1
# japan-2011 in Japanese builds a second whole report (a comparison and four figures): it runs in
# `make test-slow`; `make test` checks the Japanese report on the lecture.
CASES = [
    ("lecture", "en"),
    ("lecture", "ja"),
    ("japan-2011", "en"),
    pytest.param("japan-2011", "ja", marks=pytest.mark.slow),
]
FIGURES = {
    "lecture": ["funnel", "break_even"],  # one step: no time series; no countermeasures
    "japan-2011": ["funnel", "effects", "timeline", "populations"],  # closed form does not apply
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
URL_ATTRS = {
    "src",
    "href",
    "srcset",
    "action",
    "formaction",
    "poster",
    "data",
    "background",
    "xlink:href",
    "cite",
    "longdesc",
    "manifest",
    "ping",
    "codebase",
    "archive",
    "profile",
    "usemap",
}

EVIL_DESCRIPTION = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
EVIL = textwrap.dedent(
    """
    name: 'evil<script>alert(1)</script>&"q"'
    description: '{desc}'
    horizon: {{days: 1, step_hours: 24}}
    market: {{currency: JPY, success_rate: 0.01, profit_per_sale: 500}}
    countermeasures:
      receiver_filtering: {{catch_rate: 0.5}}
    enforcement: {{caught_probability: 0.1, fines: {{individual: 1.0e+6, corporation: 3.0e+7}}}}
    spammers:
      - name: '<img src=x onerror=alert(3)>'
        campaign: {{messages_per_send: 100000}}
      - name: 'plain'
        campaign: {{messages_per_send: 100000}}
    """
).format(desc=EVIL_DESCRIPTION)


# -- building reports once ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports() -> dict[tuple[str, str], rp.Report]:
    return {}


@pytest.fixture(scope="module")
def get_report(reports: dict[tuple[str, str], rp.Report]):
    def _get(name: str, lang: str) -> rp.Report:
        key = (name, lang)
        if key not in reports:
            reports[key] = rp.build_report(
                SCENARIOS / f"{name}.yaml", reps=REPS, seed=SEED, lang=lang, compare=True, shapley=False
            )
        return reports[key]

    return _get


@pytest.fixture(scope="module")
def evil_report(tmp_path_factory: pytest.TempPathFactory) -> rp.Report:
    path = tmp_path_factory.mktemp("evil") / "evil.yaml"
    path.write_text(EVIL, encoding="utf-8")
    # A Scenario object (not a path), Shapley over two countermeasures (4 variants): cheap.
    return rp.build_report(ss.load(path), reps=REPS, seed=SEED, lang="en", shapley=True)


# -- parsing -------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Everything the checks need from a page, and its structural problems."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []
        self.css: list[str] = []
        self.text_parts: list[str] = []
        self.title = ""
        self.h1 = ""
        self._in: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed at end: {self.stack}")

    @property
    def text(self) -> str:
        return " ".join(self.text_parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        self.tags.append((tag, d))
        if "id" in d and d["id"]:
            self.ids.append(d["id"])
        if d.get("style"):
            self.css.append(d["style"] or "")
        if tag not in VOID:
            self.stack.append(tag)
        self._in.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.problems.append(f"self-closed non-void <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"end tag for void element </{tag}>")
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        current = self.stack[-1] if self.stack else ""
        if current == "style":
            self.css.append(data)
            return
        if current == "title":
            self.title += data
        if "h1" in self.stack:
            self.h1 += data
        self.text_parts.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def external_references(page: Page) -> list[str]:
    """Every reference to something outside the page (anything but data: URIs and #fragments)."""
    bad = []
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            value = (value or "").strip()
            if name in URL_ATTRS and not (value.startswith("data:") or value.startswith("#")):
                bad.append(f"<{tag} {name}={value[:60]!r}>")
            if name.startswith("on"):
                bad.append(f"<{tag} {name}> event handler")
        if tag == "script":
            bad.append("<script>")
        if tag == "link" and not (attrs.get("href") or "").startswith("data:"):
            bad.append(f"<link href={attrs.get('href')!r}>")
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            bad.append("<meta http-equiv=refresh>")
        if tag in ("iframe", "object", "embed", "frame", "base", "form", "video", "audio"):
            bad.append(f"<{tag}>")
    for css in page.css:
        for url in re.findall(r"url\(\s*['\"]?([^'\")\s]*)", css, flags=re.I):
            if not url.startswith("data:"):
                bad.append(f"CSS url({url[:60]!r})")
        if re.search(r"@import", css, flags=re.I):
            bad.append("CSS @import")
    return bad


# -- the page ------------------------------------------------------------------------------------


# One test per report (each checks all of it) so that parallel workers build each report once.
@pytest.mark.parametrize(("name", "lang"), CASES)
def test_report(get_report, name: str, lang: str) -> None:
    report = get_report(name, lang)
    check_self_contained(report)
    check_well_formed_and_complete(report, name, lang)
    check_language_and_numbers(report, name, lang)


def check_self_contained(report: rp.Report) -> None:
    """No reference to anything outside the page; every figure an inline PNG."""
    html = report.html
    assert not re.search(r"https?://", html, flags=re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", html, flags=re.I)
    assert not re.search(r"url\(\s*['\"]?//", html, flags=re.I)
    page = Page(html)
    assert external_references(page) == []
    imgs = page.find("img")
    assert imgs, "no figures"
    for img in imgs:
        src = img["src"] or ""
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert img.get("alt")
    csp = [m for m in page.find("meta") if (m.get("http-equiv") or "").lower() == "content-security-policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")


def check_well_formed_and_complete(report: rp.Report, name: str, lang: str) -> None:
    """Tags balanced, ids unique, and every part of the report present."""
    page = Page(report.html)
    assert page.problems == []
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    assert report.html.startswith("<!DOCTYPE html>")
    assert page.find("html", lang=lang)
    assert page.find("meta", charset="utf-8")
    assert page.title == report.title == page.h1
    # 1. the scenario: name, description, resolved YAML
    assert "lecture" in report.title or "japan-2011" in report.title
    result = report.result
    assert result.scenario.description in page.text
    yaml_block = page.find("pre", id="scenario-yaml")
    assert yaml_block
    assert f"name: {result.scenario.name}" in page.text
    # 2. the summary table, a row per metric (and per-channel / per-spammer tables when useful)
    assert page.find("table", **{"class": "summary"})
    summary_rows = re.search(r'<table class="summary">.*?<tbody>(.*?)</tbody>', report.html, flags=re.S)
    assert summary_rows and summary_rows.group(1).count("<tr>") == len(result.summary.index)
    several = name == "japan-2011"
    assert bool(page.find("table", **{"class": "by-channel"})) == several
    assert bool(page.find("table", **{"class": "by-spammer"})) == several
    # 3.-6. figures
    assert report.figures == FIGURES[name]
    kinds = [f.get("data-kind") for f in page.find("figure")]
    assert kinds == FIGURES[name]
    assert len(page.find("figcaption")) == len(kinds)
    # 4. countermeasures
    assert bool(page.find("table", **{"class": "effects"})) == several
    assert (report.comparison is not None) == several
    # 4b. defenders' costs: the cost by part and the cost-effectiveness, where there was a comparison
    assert bool(page.find("section", id="costs")) == several
    assert bool(page.find("table", **{"class": "costs"})) == several
    assert bool(page.find("table", **{"class": "cost-effectiveness"})) == several
    if several:
        assert ("防御側の費用" if lang == "ja" else "Defenders' costs") in page.text
    # 5. one step: the time series are explained, not drawn
    if name == "lecture":
        assert "timeline" in report.skipped
    # 6. closed form
    assert page.find("section", id="closed")
    assert page.find("table", **{"class": "closed-form"})
    assert report.analytic.applicable == (name == "lecture")
    # 7. provenance and how to reproduce
    assert page.find("table", **{"class": "provenance"})
    assert ss.__version__ in page.text
    file = shlex.quote(str(SCENARIOS / f"{name}.yaml"))
    assert f"spamsim run {file} --reps {REPS} --seed {SEED}" in page.text
    assert str(report.provenance["seed_entropy"]) in page.text
    assert report.provenance["reps"] == REPS


def check_language_and_numbers(report: rp.Report, name: str, lang: str) -> None:
    """Headings and labels in the report's language; numbers written for people."""
    page = Page(report.html)
    headings = {
        "en": ["Funnel and money", "Closed-form expectations", "Provenance and how to reproduce", "Mean"],
        "ja": ["ファネルと収支", "解析解による期待値", "来歴と再現方法", "平均", "95%信頼区間 下限"],
    }
    for heading in headings[lang]:
        assert heading in page.text
    other = "ja" if lang == "en" else "en"
    assert headings[other][0] not in page.text
    # Money as people write it, in the scenario's currency.
    revenue = report.result.summary.loc["revenue", "mean"]
    written = rp.fmt_number(revenue)
    assert re.fullmatch(r"[\d,]+", written) and "," in written
    assert (written + " JPY" if lang == "en" else written + "円") in page.text
    if name == "japan-2011":
        # Small rates in scientific notation: the break-even success rate.
        assert "× 10⁻" in page.text


def test_number_format() -> None:
    f = rp.fmt_number
    assert f(5_000_000) == "5,000,000"
    assert f(8e-8) == "8 × 10⁻⁸"
    assert f(1e-8, "rate") == "1 × 10⁻⁸"
    assert f(0.0123) == "0.0123"
    assert f(12.345) == "12.3"
    assert f(-1234.6) == "\u22121,235"
    assert f(0.848, "share") == "84.8%"
    assert f(0.0, "share") == "0%"
    assert f(float("nan")) == "—"
    assert f(None) == "—"
    assert f(float("inf")) == "∞"
    assert f(1.23e16) == "1.23 × 10¹⁶"
    assert f(0) == "0"


def test_write_is_atomic(get_report, tmp_path: Path) -> None:
    report = get_report("lecture", "en")
    target = report.write(tmp_path / "sub" / "report.html")
    assert target.read_text(encoding="utf-8") == report.html
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


def test_japanese_font_is_embedded_for_japanese(get_report) -> None:
    ja, en = get_report("lecture", "ja"), get_report("lecture", "en")
    assert "data:font/woff;base64," in ja.html  # readable without a Japanese font installed
    assert "data:font/woff;base64," not in en.html


def test_untrusted_text_is_escaped(evil_report: rp.Report) -> None:
    html = evil_report.html
    page = Page(html)
    assert page.problems == []
    assert external_references(page) == []
    assert "<script" not in html.lower()
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in html
    # The text reads as the scenario wrote it.
    assert EVIL_DESCRIPTION in page.text
    assert page.title == evil_report.title and "<script>" in page.title
    # Two countermeasures with Shapley; a Scenario object is reproduced from the YAML shown.
    assert evil_report.figures == ["funnel", "effects", "shapley", "break_even"]
    assert page.find("table", **{"class": "shapley"})
    assert "Save the scenario YAML above as" in page.text


def test_compare_off(tmp_path: Path) -> None:
    report = rp.build_report(SCENARIOS / "japan-2011.yaml", reps=5, seed=2, compare=False)
    assert report.comparison is None
    assert "effects" not in report.figures
    assert "The comparison was not run" in Page(report.html).text


def test_figures_that_cannot_be_drawn_are_explained() -> None:
    # Several steps, but no botnet, relays or stolen accounts: a timeline, no populations.
    scenario = ss.load(SCENARIOS / "lecture.yaml", ["horizon.days=3", "spammers.lecturer.campaign.days=3"])
    report = rp.build_report(scenario, reps=5, seed=3, lang="ja")
    assert report.figures == ["funnel", "timeline", "break_even"]
    assert set(report.skipped) == {"populations"}
    page = Page(report.html)
    assert page.find("p", **{"data-skipped": "populations"})
    assert "描画なし" in page.text


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="language"):
        rp.build_report(SCENARIOS / "lecture.yaml", reps=2, lang="fr")
    with pytest.raises(ValueError, match="theme"):
        rp.build_report(SCENARIOS / "lecture.yaml", reps=2, theme="poster")


# -- a real browser ------------------------------------------------------------------------------


def run_chromium(tmp_path: Path, page: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    exe = chromium()
    assert exe is not None
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    args = [
        exe,
        *CHROMIUM_ARGS,
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *mode,
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run(args, capture_output=True, text=True, timeout=90, env=env, check=False)


def console_messages(stderr: str) -> list[str]:
    """What the page logged to the browser console: failed loads, CSP violations, errors."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


BROWSER_CASES = [
    ("lecture", "ja"),
    ("japan-2011", "en"),
    pytest.param("japan-2011", "ja", marks=pytest.mark.slow),
    ("evil", "en"),
]


@pytest.mark.skipif(chromium() is None, reason="no Chromium (chromium, chromium-browser or google-chrome) installed")
@pytest.mark.parametrize(("name", "lang"), BROWSER_CASES)
def test_renders_in_chromium(get_report, evil_report: rp.Report, tmp_path: Path, name: str, lang: str) -> None:
    from PIL import Image

    report = evil_report if name == "evil" else get_report(name, lang)
    page = report.write(tmp_path / "report.html")

    shot = tmp_path / "shot.png"
    done = run_chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists(), done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    assert image.size == (1280, 2000)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 64, "blank screenshot"
    white = (
        max(count for count, rgb in colours if rgb == (255, 255, 255))
        if any(rgb == (255, 255, 255) for _, rgb in colours)
        else 0
    )
    assert white < 0.97 * 1280 * 2000, "screenshot nearly all white"

    done = run_chromium(tmp_path, page, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    dom = Page(done.stdout)
    assert dom.title == report.title
    assert dom.h1 == report.title
    assert not dom.find("script")
    assert len(dom.find("img")) == len(report.figures)
    if name == "evil":
        assert EVIL_DESCRIPTION in dom.text

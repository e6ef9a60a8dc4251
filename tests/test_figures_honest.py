"""Figures say what they show, and their words never lie over their data.

* The timeline's panels are labelled with what they compute: the channel mix is of
  *delivered* spam (mail refused at a closed relay is attempted, not delivered), the spam
  share is of mail *arriving* at receivers' servers.
* For every shipped scenario, the timeline, funnel and populations figures are rendered
  (a few replications) and every piece of text is checked with the renderer's bounding boxes
  against every plotted line, band, bar and error bar, and against every other text.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

import spamsim as ss
from spamsim import plots
from spamsim.analysis import curves

from .conftest import SCENARIOS

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_figures_honest")

SEED = 20260
PIXEL_SLACK = 1.0
"""Bounding boxes are shrunk by this many pixels before testing: touching is not overlapping."""

SHIPPED = sorted(
    p.name for p in SCENARIOS.glob("*.yaml") if p.name != "deterrence-sweep.yaml" and not p.name.startswith("explore-")
)
HEAVY = {"timeline.yaml"}  # 783 weekly steps: ~20 s per run on this machine


def _run(name: str) -> ss.Result:
    return ss.run(SCENARIOS / name, reps=3, seed=SEED)


def _shrink(box: Bbox) -> Bbox | None:
    x0, y0, x1, y1 = box.x0 + PIXEL_SLACK, box.y0 + PIXEL_SLACK, box.x1 - PIXEL_SLACK, box.y1 - PIXEL_SLACK
    return Bbox([[x0, y0], [x1, y1]]) if x1 > x0 and y1 > y0 else None


def _texts(fig: Figure) -> list[Text]:
    """Every text the figure draws: titles, labels, notes, legends, annotations, and the tick
    labels of the ticks inside the view (matplotlib keeps labels for ticks outside it, undrawn)."""
    tick_labels: set[int] = set()
    drawn_ticks: list[Text] = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update({id(tick.label1), id(tick.label2)})
            if not ax.get_visible() or not ax.axison:
                continue
            for tick in axis._update_ticks():  # the ticks matplotlib draws
                drawn_ticks += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    out = []
    for t in fig.findobj(Text):
        if id(t) in tick_labels or not t.get_visible() or not t.get_text().strip():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        out.append(t)
    return out + [t for t in drawn_ticks if t.get_text().strip()]


def _data_paths(ax):
    """(display-space path, filled) of every line, band, error bar and bar an axes plots."""
    for line in ax.lines:
        if isinstance(line, Line2D) and line.get_visible():
            path = line.get_transform().transform_path(line.get_path())
            if line.get_linestyle() not in ("None", "none", "", " "):  # markers only: no line between them
                yield path, False
            if line.get_marker() not in (None, "None", "none", ""):
                # Markers: a box of the marker's size around each point.
                size = line.get_markersize() * ax.figure.dpi / 72.0
                for x, y in path.vertices:
                    yield Bbox([[x - size / 2, y - size / 2], [x + size / 2, y + size / 2]]), True
    for coll in ax.collections:
        if isinstance(coll, Collection) and coll.get_visible():
            transform = coll.get_transform()
            offsets_ok = len(coll.get_offsets()) <= 1
            for p in coll.get_paths():
                if offsets_ok:
                    yield transform.transform_path(p), coll.get_facecolor().size > 0
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_height() != 0:
            yield patch.get_window_extent(), True


def _overlaps(fig: Figure) -> list[str]:
    """Texts that overlap plotted data or each other, described for the failure message."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = _texts(fig)
    boxes = {id(t): _shrink(t.get_window_extent(renderer)) for t in texts}
    problems = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        clip = ax.get_window_extent(renderer)
        for t in texts:
            box = boxes[id(t)]
            if box is None or not box.overlaps(clip):
                continue
            inside = Bbox.intersection(box, clip)
            if inside is None or inside.width <= 0 or inside.height <= 0:
                continue
            for path, filled in _data_paths(ax):
                hit = path.overlaps(inside) if isinstance(path, Bbox) else path.intersects_bbox(inside, filled=filled)
                if hit:
                    problems.append(f"text {t.get_text()!r} over data in axes {ax.get_ylabel()!r}")
                    break
    # A legend lays out its own texts: texts of one legend are not checked against each other.
    legend_of = {id(t): id(legend) for legend in fig.findobj(Legend) for t in [*legend.get_texts(), legend.get_title()]}
    for a, b in itertools.combinations(texts, 2):
        box_a, box_b = boxes[id(a)], boxes[id(b)]
        if box_a is None or box_b is None:
            continue
        if id(a) in legend_of and legend_of.get(id(a)) == legend_of.get(id(b)):
            continue
        if box_a.overlaps(box_b):
            problems.append(f"texts {a.get_text()!r} and {b.get_text()!r} overlap")
    return problems


FIGURES = ("timeline", "funnel", "populations")


def _figures(result: ss.Result, theme: str, lang: str = "en"):
    for kind in FIGURES:
        try:
            yield kind, plots.FIGURES[kind](result, theme=theme, lang=lang)
        except ValueError:  # a single step (timeline) or no infrastructure (populations)
            continue


@pytest.fixture(scope="module")
def runs() -> dict[str, ss.Result]:
    """One small run per scenario, shared by the themes and languages."""
    return {}


def _cached(runs: dict[str, ss.Result], name: str) -> ss.Result:
    if name not in runs:
        runs[name] = _run(name)
    return runs[name]


@pytest.mark.parametrize("theme", ["lecture", "paper"])
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in SHIPPED],
)
def test_no_text_over_data_or_other_text(runs, name, theme):
    result = _cached(runs, name)
    problems = []
    drawn = 0
    for kind, fig in _figures(result, theme):
        drawn += 1
        problems += [f"{name} {kind} ({theme}): {p}" for p in _overlaps(fig)]
    assert drawn > 0
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("name", "theme"), [("relay-prevention.yaml", "lecture"), ("japan-2011.yaml", "paper")])
def test_no_text_over_data_in_japanese(runs, name, theme):
    # Japanese labels have other widths: the same check on two scenarios, one theme each.
    result = _cached(runs, name)
    problems = []
    for kind, fig in _figures(result, theme, lang="ja"):
        problems += [f"{name} {kind} ({theme}, ja): {p}" for p in _overlaps(fig)]
    assert not problems, "\n".join(problems)


def test_the_overlap_check_sees_a_label_on_a_line():
    # The check itself: a text put on a line is found, one beside the axes is not.
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "on the line", ha="center", va="center")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    assert any("on the line" in p for p in _overlaps(fig))
    ax.texts[0].set_position((1.6, 0.5))
    assert not any("on the line" in p for p in _overlaps(fig))


@pytest.fixture(scope="module")
def relay_run() -> ss.Result:
    return ss.run(SCENARIOS / "relay-prevention.yaml", reps=4, seed=SEED)


@pytest.mark.parametrize("theme", ["lecture", "paper"])
def test_timeline_panels_say_delivered_and_arriving_and_plot_that(relay_run, theme):
    fig = plots.timeline(relay_run, theme=theme)
    data_axes = [ax for ax in fig.axes if ax.lines]
    mix_ax, share_ax = data_axes[0], data_axes[1]
    assert "delivered" in mix_ax.get_ylabel().lower()
    share_words = " ".join([share_ax.get_ylabel(), *[t.get_text() for t in fig.findobj(Text)]]).lower()
    assert "arriving at\nreceivers' servers" in share_words or "arriving at receivers' servers" in share_words
    # The channel-mix lines are the delivered shares (not the attempted ones, which count
    # mail refused at closed relays: relay prevention refuses a lot here).
    delivered = curves.channel_mix(relay_run, "delivered")
    attempted = curves.channel_mix(relay_run, "attempted")
    relays = mix_ax.lines[0].get_ydata()
    want = delivered[delivered["channel"] == "open_relays"]["mean"].to_numpy()
    other = attempted[attempted["channel"] == "open_relays"]["mean"].to_numpy()
    assert np.allclose(relays, want, equal_nan=True)
    assert not np.allclose(relays, other, equal_nan=True)
    # The spam-share line is spam arriving at receivers' servers over all mail arriving.
    wts = relay_run.world_timeseries
    spam = relay_run.ledger.flows["arriving"].sum(axis=(1, 2))
    legit = relay_run.ledger.world["legit"]
    expected = (spam / (spam + legit)).mean(axis=-1)
    assert np.allclose(share_ax.lines[0].get_ydata(), expected)
    assert len(wts) > 0
    # And the figure says what "delivered" means.
    notes = [t.get_text() for t in fig.findobj(Text)]
    assert any("refused" in n for n in notes)

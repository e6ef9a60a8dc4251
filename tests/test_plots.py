"""Figures: every figure renders for every kind of input, theme and language; files are valid;
Japanese text has its glyphs; plotting leaves matplotlib's global state alone.

Results are computed once per module with few replications: these tests check that figures
are drawn correctly, not the numbers in them (the analysis tests do that), apart from the
small derived series of :mod:`spamsim.analysis.curves` that only figures use.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import spamsim as ss  # noqa: E402
from spamsim import plots  # noqa: E402
from spamsim.analysis import curves  # noqa: E402
from spamsim.analysis.summary import mean_ci  # noqa: E402
from spamsim.plots import labels, style  # noqa: E402

from .conftest import SCENARIOS  # noqa: E402

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_plots")

THEMES = ("lecture", "paper")
LANGS = ("en", "ja")
REPS = 20

FUNNEL_OVERRIDES = [
    "market.success_rate=null",
    "market.funnel={open_rate: 0.2, click_rate: 0.05, purchase_rate: 0.1}",
]

SWEEP = """
name: plot-sweep
base: {base}
set: ["horizon.days=3", "spammers.0.campaign={{messages_per_send: 100000, sends_per_day: 2, days: 3}}",
      "enforcement.on_conviction=stop"]
design:
  kind: grid
  parameters:
    enforcement.fines.individual: [0, 1.0e+6, 3.0e+7, 1.0e+9]
    enforcement.caught_probability: {{low: 0.01, high: 0.9, num: 4, scale: log}}
reps: 10
seed: 3
metrics: [revenue, net_profit]
"""

CALIBRATION = pd.DataFrame(
    {
        "stage": ["attempted", "delivered", "inbox", "clicked", "sales"],
        "observed": [3.5e8, 8.2e7, 2.1e7, 10522, 28],
        "fitted": [3.5e8, 8.19e7, 2.11e7, 10400, 29.5],
        "fitted_ci_low": [3.5e8, 8.1e7, 2.0e7, 9900, 19.0],
        "fitted_ci_high": [3.5e8, 8.3e7, 2.2e7, 10900, 42.0],
    }
)


# -- data, computed once -------------------------------------------------------------------


class _Lazy(dict):
    """Data computed on first use, once per test process (a module fixture computing all of it
    up front cost each xdist worker ~25 s, most of it for figures that worker never draws)."""

    def __init__(self, makers: dict[str, Any]):
        super().__init__()
        self.makers = makers

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.makers[key]()
        return value


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run = lambda name, reps=REPS: ss.run(SCENARIOS / name, reps=reps, seed=1)  # noqa: E731
    params = ["market.success_rate=0.001:0.02", "market.profit_per_sale=100:1000"]
    funnel_scenario = ss.load(SCENARIOS / "lecture.yaml", FUNNEL_OVERRIDES)

    def sweep() -> Any:
        sweep_file = tmp_path_factory.mktemp("sweep") / "sweep.yaml"
        sweep_file.write_text(SWEEP.format(base=SCENARIOS / "lecture.yaml"))
        return ss.sweep(sweep_file)

    lazy = _Lazy(
        {
            "lecture": lambda: run("lecture.yaml"),
            "japan": lambda: run("japan-2011.yaml"),
            "timeline": lambda: run("timeline.yaml", reps=10),
            "relay": lambda: run("relay-prevention.yaml"),
            "smtp": lambda: run("smtp-auth.yaml"),
            "funnel": lambda: ss.run(funnel_scenario, reps=REPS, seed=1),
            "cmp_relay": lambda: ss.compare(SCENARIOS / "relay-prevention.yaml", reps=REPS, seed=1, shapley=True),
            "cmp_japan": lambda: ss.compare(
                SCENARIOS / "japan-2011.yaml",
                ["op25b", "submission_auth", "receiver_filtering", "enforcement"],
                reps=REPS,
                seed=1,
                shapley=True,
            ),
            "sweep": sweep,
            "sweep_frame": lambda: lazy["sweep"].summary,
            "sobol": lambda: ss.sensitivity(SCENARIOS / "lecture.yaml", params, method="sobol", n=8, reps=2),
            "morris": lambda: ss.sensitivity(SCENARIOS / "lecture.yaml", params, method="morris", n=4, reps=2),
            "be_lecture": lambda: curves.break_even_curve(
                ss.load(SCENARIOS / "lecture.yaml", ["costs.per_message=0.001"])
            ),
            "be_japan": lambda: curves.break_even_curve(SCENARIOS / "japan-2011.yaml"),
            "be_uncertain": lambda: curves.break_even_curve(SCENARIOS / "lecture-uncertain.yaml"),
            "be_free": lambda: curves.break_even_curve(SCENARIOS / "lecture.yaml"),
            "be_funnel": lambda: curves.break_even_curve(funnel_scenario),
        }
    )
    return lazy


ROBUSTNESS = pd.DataFrame(
    {
        "satisficing": [0.8, 0.5, 0.5, 0.1],
        "defender_cost": [3.0e9, 1.0e9, 2.0e9, 0.0],
        "pareto": [True, True, False, True],
    },
    index=pd.Index(["op25b+submission_auth", "submission_auth", "op25b", "none"], name="portfolio"),
)
"""A robustness table (spamsim.analysis.robustness) small enough to read."""

PRIM_BOX = SimpleNamespace(
    coverage=0.8,
    density=0.9,
    trajectory=pd.DataFrame(
        {
            "coverage": [1.0, 0.95, 0.9, 0.8, 0.6],
            "density": [0.4, 0.55, 0.7, 0.9, 0.95],
            "mass": [1.0, 0.7, 0.5, 0.35, 0.25],
            "res_dim": [0, 1, 1, 2, 2],
        }
    ),
)
"""What prim_trajectory reads of a PrimBox (spamsim.analysis.discovery)."""

FIGURE_CASES: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    # case id: (FIGURES kind, data -> positional arguments); keyword arguments follow ":"
    "funnel-lecture": ("funnel", lambda d: (d["lecture"],)),
    "funnel-japan": ("funnel", lambda d: (d["japan"],)),
    "funnel-open-click": ("funnel", lambda d: (d["funnel"],)),
    "effects-relay": ("effects", lambda d: (d["cmp_relay"],)),
    "effects-japan": ("effects", lambda d: (d["cmp_japan"],)),
    "effects-net-profit": ("effects", lambda d: (d["cmp_japan"], {"metric": "net_profit"})),
    "shapley-relay": ("shapley", lambda d: (d["cmp_relay"],)),
    "shapley-japan": ("shapley", lambda d: (d["cmp_japan"],)),
    "timeline-years": ("timeline", lambda d: (d["timeline"],)),
    "timeline-relay": ("timeline", lambda d: (d["relay"],)),
    "timeline-japan": ("timeline", lambda d: (d["japan"],)),
    "populations-years": ("populations", lambda d: (d["timeline"],)),
    "populations-japan": ("populations", lambda d: (d["japan"],)),
    "populations-smtp": ("populations", lambda d: (d["smtp"],)),
    "deterrence-frame": ("deterrence", lambda d: (d["sweep_frame"],)),
    "deterrence-sweep": ("deterrence", lambda d: (d["sweep"],)),
    "break-even-costs": ("break-even", lambda d: (d["be_lecture"],)),
    "break-even-japan": ("break-even", lambda d: (d["be_japan"],)),
    "break-even-uncertain": ("break-even", lambda d: (d["be_uncertain"],)),
    "break-even-free": ("break-even", lambda d: (d["be_free"],)),
    "break-even-funnel": ("break-even", lambda d: (d["be_funnel"],)),
    "sweep-hue": (
        "sweep",
        lambda d: (
            d["sweep"],
            {"x": "enforcement.caught_probability", "metric": "net_profit", "hue": "enforcement.fines.individual"},
        ),
    ),
    "sweep-one": (
        "sweep",
        lambda d: (
            d["sweep_frame"][d["sweep_frame"]["enforcement.fines.individual"] == 3.0e7],
            {"x": "enforcement.caught_probability", "metric": "revenue"},
        ),
    ),
    "sweep-heatmap-revenue": (
        "sweep-heatmap",
        lambda d: (
            d["sweep_frame"],
            {"x": "enforcement.caught_probability", "y": "enforcement.fines.individual", "metric": "revenue"},
        ),
    ),
    "sweep-heatmap-profit": (
        "sweep-heatmap",
        lambda d: (
            d["sweep"],
            {"x": "enforcement.fines.individual", "y": "enforcement.caught_probability", "metric": "net_profit"},
        ),
    ),
    "sensitivity-sobol": ("sensitivity", lambda d: (d["sobol"],)),
    "sensitivity-morris": ("sensitivity", lambda d: (d["morris"],)),
    "calibration": ("calibration", lambda d: (CALIBRATION,)),
    "robustness-costs": (
        "robustness",
        lambda d: (ROBUSTNESS, {"name": "explore", "note": "8 worlds x 4 replications"}),
    ),
    "robustness-no-costs": ("robustness", lambda d: (ROBUSTNESS.assign(defender_cost=float("nan")),)),
    "prim": ("prim", lambda d: (PRIM_BOX, {"portfolio": "op25b+submission_auth"})),
}


def render(data: dict[str, Any], case: str, theme: str, lang: str) -> tuple[Figure, list[warnings.WarningMessage]]:
    """Build the figure of ``case`` and draw it (Agg), recording every warning."""
    kind, make = FIGURE_CASES[case]
    args = list(make(data))
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.FIGURES[kind](*args, theme=theme, lang=lang, **kwargs)
        fig.canvas.draw()
    return fig, caught


def data_axes(fig: Figure) -> list[Any]:
    # An axes drawn without its axis (the timeline's milestone-label band) holds no data.
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison and not hasattr(ax, "_colorbar")]


def labelled(ax: Any, which: str) -> bool:
    """Whether ``ax`` or an axes sharing that axis with it has a label on it."""
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return any((sib.get_xlabel() if which == "x" else sib.get_ylabel()).strip() for sib in shared.get_siblings(ax))


# -- every figure, every theme and language -------------------------------------------------


TIMELINE_CASES = {"timeline-years", "populations-years"}
"""Figures of the 1998-2012 timeline (a 15-year run, ~13 s): drawn in make test-slow, with the
other tests of that run."""


def _figure_matrix() -> list[Any]:
    """Every case in every theme and language; ``make test`` draws each case once, in one of
    the four theme x language pairs taken in turn (so every pair is drawn for several cases),
    and ``make test-slow`` draws the rest of the matrix."""
    pairs = [(theme, lang) for theme in THEMES for lang in LANGS]
    matrix = []
    for i, case in enumerate(FIGURE_CASES):
        for pair in pairs:
            fast = pair == pairs[i % len(pairs)] and case not in TIMELINE_CASES
            marks = () if fast else (pytest.mark.slow,)
            matrix.append(pytest.param(case, *pair, marks=marks, id=f"{case}-{pair[0]}-{pair[1]}"))
    return matrix


@pytest.mark.parametrize(("case", "theme", "lang"), _figure_matrix())
def test_figure_renders_with_labels_and_no_warnings(data, case, theme, lang):
    fig, caught = render(data, case, theme, lang)
    assert isinstance(fig, Figure)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "Glyph" in m or "missing from font" in m], messages
    assert not messages, messages
    axes = data_axes(fig)
    assert axes
    for ax in axes:
        assert ax.has_data() or ax.collections or ax.patches, f"{case}: empty axes"
        assert labelled(ax, "x"), f"{case}: an axes has no x label"
        assert labelled(ax, "y"), f"{case}: an axes has no y label"
    for ax in fig.axes:
        if hasattr(ax, "_colorbar"):
            assert (ax.get_ylabel() or ax.get_xlabel()).strip(), f"{case}: colorbar without a label"
    # Nothing is cut off: everything drawn (labels, ticks, legends, notes) lies within the figure.
    renderer = fig.canvas.get_renderer()
    for artist in [*fig.axes, *fig.legends, *fig.texts, fig._supxlabel, fig._suptitle]:
        if artist is None or not artist.get_visible():
            continue
        box = artist.get_tightbbox(renderer)
        bounds = fig.bbox
        assert (
            box.x0 >= bounds.x0 - 2 and box.x1 <= bounds.x1 + 2 and box.y0 >= bounds.y0 - 2 and box.y1 <= bounds.y1 + 2
        ), f"{case}: {type(artist).__name__} {box} outside {bounds}"
    width, height = fig.get_size_inches()
    if theme == "lecture":
        assert (width, height) == pytest.approx((13.33, 7.5))
        assert all(t.get_fontsize() >= 18 for ax in axes for t in ax.get_yticklabels() if t.get_text())
        assert all(ax.xaxis.label.get_fontsize() >= 18 for ax in axes if ax.get_xlabel())
    else:
        assert width == pytest.approx(3.5)
        sizes = [t.get_fontsize() for ax in axes for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
        assert sizes and 7 <= min(sizes) and max(sizes) <= 9.5
    if lang == "ja":
        families = {fam for ax in axes for fam in ax.xaxis.label.get_fontfamily()}
        assert style.JAPANESE_FONT in families


def test_figures_registry_names_every_kind():
    assert set(plots.FIGURES) >= {
        "funnel",
        "effects",
        "shapley",
        "timeline",
        "populations",
        "deterrence",
        "break-even",
        "sweep",
        "sensitivity",
        "calibration",
    }
    assert {kind for kind, _ in FIGURE_CASES.values()} == set(plots.FIGURES)
    for name, fn in plots.FIGURES.items():
        assert fn.__name__ in plots.__all__, name
        assert fn.__doc__ and "Returns" in fn.__doc__, name


def test_plotting_leaves_global_rcparams_and_pyplot_alone(data, tmp_path):
    import matplotlib.pyplot as plt

    before = dict(mpl.rcParams)
    open_before = plt.get_fignums()
    for case in ("funnel-lecture", "timeline-japan", "deterrence-sweep", "sensitivity-morris"):
        for lang in LANGS:
            render(data, case, "paper", lang)
    plots.save(render(data, "funnel-japan", "lecture", "ja")[0], tmp_path / "f.pdf")
    assert dict(mpl.rcParams) == before
    assert plt.get_fignums() == open_before


def test_a_break_even_figure_takes_a_scenario_path_or_a_run(data):
    for source in (SCENARIOS / "lecture-uncertain.yaml", data["japan"]):
        fig = plots.break_even(source, theme="paper")
        fig.canvas.draw()
        assert data_axes(fig)[0].get_xlabel()


# -- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "theme", "lang"),
    [("funnel-japan", "paper", "ja"), ("deterrence-sweep", "lecture", "en"), ("break-even-japan", "paper", "en")],
)
def test_saved_files_are_valid(data, tmp_path, case, theme, lang):
    fig, _ = render(data, case, theme, lang)
    png = plots.save(fig, tmp_path / "f.png")
    svg = plots.save(fig, tmp_path / "f.svg")
    pdf = plots.save(fig, tmp_path / "sub" / "f.PDF")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    raw = pdf.read_bytes()
    assert raw.startswith(b"%PDF")
    assert b"/FontFile2" in raw, "fonts must be embedded as TrueType (Type 42)"
    assert b"/Type3" not in raw
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert all(p.stat().st_size > 1000 for p in (png, svg, pdf))
    # 200 dpi PNG of the figure's size.
    from matplotlib import image

    height, width = image.imread(png).shape[:2]
    assert width == pytest.approx(fig.get_size_inches()[0] * 200, abs=2)
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "f.svg", "sub"]
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["f.PDF"]


def test_save_refuses_unknown_formats_and_keeps_the_old_file(data, tmp_path):
    fig, _ = render(data, "calibration", "paper", "en")
    with pytest.raises(ValueError, match=r"\.png"):
        plots.save(fig, tmp_path / "f.jpg")
    target = tmp_path / "f.png"
    target.write_bytes(b"old")

    class Broken(Figure):
        def savefig(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        plots.save(Broken(), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]


@pytest.mark.parametrize("suffix", [pytest.param(".pdf", marks=pytest.mark.slow), ".svg", ".png"])
def test_the_same_figure_gives_the_same_file(data, tmp_path, suffix):
    # No dates or random ids in the files: outputs can be compared and committed.
    files = [
        plots.save(
            plots.shapley_waterfall(data["cmp_relay"], theme="paper", lang="ja"), tmp_path / f"{i}{suffix}"
        ).read_bytes()
        for i in range(2)
    ]
    assert files[0] == files[1]


# -- Japanese ------------------------------------------------------------------------------


def japanese_characters() -> set[str]:
    phrases = [entry["ja"] for entry in labels.TEXT.values()] + [entry["ja"] for entry in labels.PARAMS.values()]
    phrases += ["円", "万", "億", "兆", "分の1", labels.MINUS]
    return {ch for phrase in phrases for ch in phrase if not ch.isspace()}


def test_matplotlib_finds_ipaexgothic_and_it_has_every_glyph():
    assert style.register_japanese_font()
    path = font_manager.findfont(font_manager.FontProperties(family=style.JAPANESE_FONT), fallback_to_default=False)
    assert Path(path).name.lower() == "ipaexg.ttf"
    cmap = TTFont(path).getBestCmap()
    missing = sorted(ch for ch in japanese_characters() if ord(ch) not in cmap)
    assert not missing, missing


def test_registering_the_font_does_not_switch_the_global_font():
    before = list(mpl.rcParams["font.family"])
    style.register_japanese_font()
    assert list(mpl.rcParams["font.family"]) == before
    assert style.japanese_font_path() is not None


def test_every_phrase_exists_in_both_languages():
    for key, entry in {**labels.TEXT, **labels.PARAMS}.items():
        assert set(entry) == {"en", "ja"}, key
        assert entry["en"] and entry["ja"], key
    for name in style.CHANNEL_COLORS:
        assert labels.channel_label(name, "ja") != name
    for name in style.COUNTERMEASURE_COLORS:
        assert name in labels.TEXT


# -- inputs refused ------------------------------------------------------------------------


def test_unknown_theme_or_language_is_refused(data):
    with pytest.raises(ValueError, match="theme"):
        plots.funnel(data["lecture"], theme="poster")
    with pytest.raises(ValueError, match="language"):
        plots.funnel(data["lecture"], lang="fr")


def test_figures_refuse_runs_they_cannot_draw(data):
    with pytest.raises(ValueError, match="more than one step"):
        plots.timeline(data["lecture"])
    with pytest.raises(ValueError, match="no botnet"):
        plots.populations(data["lecture"])
    extra = data["sweep_frame"]
    with pytest.raises(ValueError, match="also varies"):
        plots.sweep_lines(extra, x="enforcement.caught_probability", metric="net_profit")
    with pytest.raises(ValueError, match="not in the sweep"):
        plots.sweep_lines(
            extra, x="enforcement.caught_probability", metric="profit", hue="enforcement.fines.individual"
        )
    with pytest.raises(ValueError, match="lacks column"):
        plots.calibration_fit(CALIBRATION.drop(columns="fitted_ci_low"))


# -- colours and formats -------------------------------------------------------------------


def test_palette_is_okabe_ito_and_consistent():
    okabe = set(style.OKABE_ITO.values())
    assert set(style.CHANNEL_COLORS.values()) <= okabe
    assert set(style.COUNTERMEASURE_COLORS.values()) <= okabe
    assert len(set(style.CHANNEL_COLORS.values())) == len(style.CHANNEL_COLORS)
    assert len(set(style.COUNTERMEASURE_COLORS.values())) == len(style.COUNTERMEASURE_COLORS)
    adoption = [style.COUNTERMEASURE_COLORS[c] for c in curves.ADOPTION_COLUMNS.values()]
    assert not set(adoption) & set(style.CHANNEL_COLORS.values())


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (5_000_000, "en", "5M"),
        (5_000_000, "ja", "500万"),
        (3.0e7, "ja", "3000万"),
        (1.2e9, "en", "1.2B"),
        (1.2e9, "ja", "12億"),
        (-2.5e8, "en", "\u2212250M"),
        (0.0019, "en", "0.0019"),
        (1.5e-6, "en", "1.5e\u22126"),
        (0, "en", "0"),
        (750, "ja", "750"),
        (5000, "ja", "5000"),  # CLDR: Japanese abbreviates from 万 (10,000) up
    ],
)
def test_numbers_are_abbreviated_per_language(value, lang, expected):
    assert labels.format_number(value, lang) == expected


def test_pass_rates_read_as_percent_or_one_in_n():
    assert labels.format_rate(0.27, "en") == "27%"
    assert labels.format_rate(1 / 6400, "en") == "1 in 6.4K"
    assert labels.format_rate(1 / 640000, "ja") == "64万分の1"


# -- derived series (spamsim.analysis.curves) ----------------------------------------------


def test_mean_ci_by_matches_mean_ci(data):
    wts = data["japan"].world_timeseries
    out = curves.mean_ci_by(wts, "step", "bots").set_index("step")
    for step in (0, 7, 29):
        mean, se, lo, hi = mean_ci(wts.loc[wts["step"] == step, "bots"].to_numpy())
        assert out.loc[step, ["mean", "se", "ci95_low", "ci95_high"]].to_list() == pytest.approx([mean, se, lo, hi])
    one = curves.mean_ci_by(pd.DataFrame({"g": [0, 1, 1], "v": [1.0, 2.0, 2.0]}), "g", "v").set_index("g")
    assert math.isnan(one.loc[0, "ci95_low"]) and one.loc[1, "ci95_low"] == one.loc[1, "ci95_high"] == 2.0


@pytest.mark.slow  # the 1998-2012 timeline run
def test_channel_mix_shares_add_up_to_one(data):
    mix = curves.channel_mix(data["timeline"])
    totals = mix.groupby("step")["mean"].sum()
    assert np.allclose(totals, 1.0)
    assert mix["year"].min() == 1998.0 and 2012.9 < mix["year"].max() < 2013.0


@pytest.mark.slow  # the 1998-2012 timeline run
def test_adoption_milestones_follow_the_schedules(data):
    m = curves.adoption_milestones(data["timeline"]).set_index("variable")
    # timeline.yaml: relay prevention 0.45 (1998.0) -> 0.64 (1998.5), so half closed at 1998.13;
    # OP25B 0.3 (2006) -> 0.7 (2008).
    assert m.loc["relay_prevention", "year"] == pytest.approx(1998.0 + 0.5 * 0.05 / 0.19, abs=0.05)
    assert m.loc["op25b", "year"] == pytest.approx(2007.0, abs=0.05)
    assert curves.adoption_milestones(data["japan"]).empty


def test_shapley_waterfall_steps_meet_the_all_on_bar(data):
    steps = curves.shapley_waterfall(data["cmp_japan"])
    shares = steps[steps["kind"] == "share"]
    assert steps["step"].iloc[0] == "all_off" and steps["step"].iloc[-1] == "all_on"
    assert shares["end"].iloc[-1] == pytest.approx(steps["mean"].iloc[-1], rel=1e-9)
    assert shares["share_pct"].sum() == pytest.approx(100.0)
    assert list(shares["mean"]) == sorted(shares["mean"], reverse=True)


def test_expected_totals_agree_with_expected():
    for name in ("japan-2011.yaml", "lecture-uncertain.yaml"):
        scenario = ss.load(SCENARIOS / name)
        totals = ss.expected(scenario).totals
        fast = curves.expected_totals(scenario)
        assert fast == pytest.approx({k: totals[k] for k in fast})


def test_break_even_curve_crosses_zero_at_the_break_even_rate(data):
    curve = data["be_lecture"]
    # 1e6 messages at 0.001 JPY cost 1,000 JPY; each sale earns 500 JPY: 2 sales per 1e6 messages.
    assert curve.break_even_success_rate == pytest.approx(2e-6)
    frame = curve.frame
    assert np.allclose(frame["revenue"], frame["success_rate"] * 1e6 * 500)
    below = frame[frame["success_rate"] < curve.break_even_success_rate]
    above = frame[frame["success_rate"] > curve.break_even_success_rate]
    assert (below["net_profit"] < 0).all() and (above["net_profit"] > 0).all()
    assert data["be_free"].break_even_success_rate == 0.0
    lo, hi = data["be_uncertain"].success_rate_interval
    assert lo < 0.01 < hi
    assert data["be_funnel"].success_rate == pytest.approx(0.2 * 0.05 * 0.1)


def test_funnel_stages_and_relative_ci(data):
    stages = curves.funnel_stages(data["funnel"])
    assert list(stages.index) == ["attempted", "delivered", "inbox", "opened", "clicked", "sales"]
    assert stages.loc["opened", "pass_rate"] == pytest.approx(0.2, rel=0.01)
    rel = curves.relative_ci_halfwidth(data["sweep_frame"], "revenue")
    assert (rel.dropna() >= 0).all() and len(rel) == len(data["sweep_frame"])

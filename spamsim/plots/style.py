"""Themes, palette and fonts, applied per figure without touching matplotlib's global state.

Two themes:

* ``lecture`` — 16:9 slides (13.33 x 7.5 in), type large enough to read from the back of a
  lecture hall (18 pt tick labels, 20 pt axis labels), thick lines, titles on.
* ``paper`` — one journal column (3.5 in wide), 8–9 pt type, thin lines, no titles (the
  caption says what the figure is).

Colours are the Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008), which
stays distinguishable for the common forms of colour blindness; each channel and each
countermeasure keeps its colour in every figure. PDFs embed TrueType (Type 42) fonts, as
journals ask. Japanese text uses IPAexGothic, shipped by ``matplotlib-fontja``, registered
with matplotlib's font manager without importing that package (its import switches the
global font family).

Every figure function builds its figure inside :func:`plot_context`, a
``matplotlib.rc_context``: calling a plot never changes ``matplotlib.rcParams``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.figure import Figure

ThemeName = Literal["lecture", "paper"]
Lang = Literal["en", "ja"]

THEME_NAMES = ("lecture", "paper")
LANGS = ("en", "ja")

# -- palette -------------------------------------------------------------------------------

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
"""Okabe & Ito's colour-blind-safe palette (plus the grey usually paired with it)."""

CHANNEL_COLORS = {
    "own_server": OKABE_ITO["blue"],
    "open_relays": OKABE_ITO["orange"],
    "botnet": OKABE_ITO["vermillion"],
    "compromised_accounts": OKABE_ITO["reddish_purple"],
}
"""One colour per channel, the same in every figure."""

COUNTERMEASURE_COLORS = {
    "open_relay_prevention": OKABE_ITO["bluish_green"],
    "submission_auth": OKABE_ITO["sky_blue"],
    "op25b": OKABE_ITO["black"],
    "rate_limiting": OKABE_ITO["yellow"],
    "receiver_filtering": OKABE_ITO["blue"],
    "blacklists": OKABE_ITO["orange"],
    "antivirus": OKABE_ITO["reddish_purple"],
    "enforcement": OKABE_ITO["vermillion"],
}
"""One colour per countermeasure, the same in every figure. The three whose adoption the
timeline draws next to the channels (relay prevention, submission auth, OP25B) avoid the
channel colours."""

COUNTERMEASURE_LINESTYLES = {
    "open_relay_prevention": "-",
    "submission_auth": "--",
    "op25b": "-.",
}
"""Adoption lines differ by dash as well as colour (readable in greyscale print)."""

SERIES_COLORS = {
    "primary": OKABE_ITO["blue"],
    "secondary": OKABE_ITO["vermillion"],
    "observed": OKABE_ITO["black"],
    "total": "#555555",
    "neutral": OKABE_ITO["grey"],
    "reference": "#333333",
}
"""Colours of series that are not channels or countermeasures."""

DIVERGING_CMAP = "RdBu"
"""Diverging colour map for signed metrics (ColorBrewer RdBu, colour-blind safe): red =
loss, blue = profit."""

SEQUENTIAL_CMAP = "cividis"
"""Sequential colour map (designed for colour-vision deficiency)."""


def countermeasure_color(name: str) -> str:
    return COUNTERMEASURE_COLORS.get(name, OKABE_ITO["grey"])


def channel_color(name: str) -> str:
    return CHANNEL_COLORS.get(name, OKABE_ITO["grey"])


# -- themes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    """Sizes of one theme (points for type and lines, inches for figures)."""

    name: str
    width: float
    height: float
    panel_height: float
    font_size: float
    label_size: float
    title_size: float
    tick_size: float
    legend_size: float
    annotation_size: float
    line_width: float
    marker_size: float
    axes_width: float
    show_title: bool

    def figsize(self, rows: int = 1, min_height: float | None = None) -> tuple[float, float]:
        """Figure size for ``rows`` stacked panels (a lecture slide stays 16:9)."""
        if self.name == "lecture":
            return (self.width, self.height)
        height = max(self.height, self.panel_height * rows + 0.6, min_height or 0.0)
        return (self.width, height)


THEMES: dict[str, Theme] = {
    "lecture": Theme(
        name="lecture",
        width=13.33,
        height=7.5,
        panel_height=7.5,
        font_size=18,
        label_size=20,
        title_size=22,
        tick_size=18,
        legend_size=18,
        annotation_size=16,
        line_width=3.0,
        marker_size=10,
        axes_width=1.5,
        show_title=True,
    ),
    "paper": Theme(
        name="paper",
        width=3.5,
        height=2.6,
        panel_height=1.55,
        font_size=8,
        label_size=9,
        title_size=9,
        tick_size=8,
        legend_size=8,
        annotation_size=7,
        line_width=1.2,
        marker_size=4,
        axes_width=0.6,
        show_title=False,
    ),
}

JAPANESE_FONT = "IPAexGothic"
FALLBACK_FONT = "DejaVu Sans"


def japanese_font_path() -> Path | None:
    """Path of IPAexGothic as shipped by ``matplotlib-fontja`` (None if not installed).

    Found with :func:`importlib.util.find_spec`, which locates the package without running
    its ``__init__`` (that would call ``japanize()`` and change the global font family).
    """
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / "ipaexg.ttf"
        if path.is_file():
            return path
    return None


def register_japanese_font() -> bool:
    """Make IPAexGothic known to matplotlib's font manager (idempotent).

    Returns
    -------
    bool
        Whether the font is available.
    """
    if any(f.name == JAPANESE_FONT for f in font_manager.fontManager.ttflist):
        return True
    path = japanese_font_path()
    if path is None:
        return False
    font_manager.fontManager.addfont(str(path))
    return True


def rc_for(theme: Theme, lang: str) -> dict[str, Any]:
    """The rcParams a figure of ``theme`` in ``lang`` is drawn with."""
    if lang == "ja":
        if not register_japanese_font():
            raise RuntimeError("lang='ja' needs the IPAexGothic font: install matplotlib-fontja")
        family = [JAPANESE_FONT, FALLBACK_FONT]
    else:
        family = [FALLBACK_FONT]
    return {
        **SAVE_RC,
        # Concrete family names, not the generic "sans-serif": a Text keeps its family list
        # and resolves it when drawn, possibly after this context has been left.
        "font.family": family,
        "font.size": theme.font_size,
        "axes.labelsize": theme.label_size,
        "axes.titlesize": theme.title_size,
        # IPAexGothic has no bold face: Japanese titles stay regular.
        "axes.titleweight": "bold" if theme.name == "lecture" and lang == "en" else "normal",
        "axes.titlelocation": "left",
        "figure.titlesize": theme.title_size,
        "xtick.labelsize": theme.tick_size,
        "ytick.labelsize": theme.tick_size,
        "legend.fontsize": theme.legend_size,
        "legend.title_fontsize": theme.legend_size,
        "legend.frameon": False,
        "lines.linewidth": theme.line_width,
        "lines.markersize": theme.marker_size,
        "patch.linewidth": theme.axes_width * 0.6,
        "errorbar.capsize": theme.marker_size * 0.45,
        "axes.linewidth": theme.axes_width,
        "xtick.major.width": theme.axes_width,
        "ytick.major.width": theme.axes_width,
        "xtick.minor.width": theme.axes_width * 0.6,
        "ytick.minor.width": theme.axes_width * 0.6,
        "xtick.major.size": 3.5 * theme.axes_width / 0.6 if theme.name == "paper" else 7,
        "ytick.major.size": 3.5 * theme.axes_width / 0.6 if theme.name == "paper" else 7,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": "#d9d9d9",
        "grid.linewidth": theme.axes_width * 0.6,
        "axes.prop_cycle": mpl.cycler(
            color=[
                OKABE_ITO[c]
                for c in (
                    "blue",
                    "orange",
                    "bluish_green",
                    "vermillion",
                    "reddish_purple",
                    "sky_blue",
                    "black",
                    "yellow",
                )
            ]
        ),
        "axes.unicode_minus": True,
        "mathtext.fontset": "dejavusans",
        "image.cmap": SEQUENTIAL_CMAP,
        "figure.figsize": theme.figsize(),
        "figure.dpi": 100,
        "figure.constrained_layout.use": True,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
    }


SAVE_RC: dict[str, Any] = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "spamsim",
    "savefig.dpi": 200,
}
"""What files are written with: TrueType (Type 42) fonts in PDF/PS, text as paths in SVG
(renders the same without the fonts installed), 200 dpi PNG, stable SVG ids."""


@dataclass(frozen=True)
class Style:
    """What a figure function is drawing with: the theme, the language and its rcParams."""

    theme: Theme
    lang: str
    rc: dict[str, Any]


def get_theme(theme: str) -> Theme:
    try:
        return THEMES[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r}; use one of: {', '.join(THEME_NAMES)}") from None


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    return lang


@contextmanager
def plot_context(theme: str = "lecture", lang: str = "en") -> Iterator[Style]:
    """Apply a theme and language to the figures created inside (a ``rc_context``).

    Examples
    --------
    >>> with plot_context("paper", "ja") as style:   # doctest: +SKIP
    ...     fig = new_figure(style)
    """
    chosen = get_theme(theme)
    rc = rc_for(chosen, check_lang(lang))
    with mpl.rc_context(rc):
        yield Style(chosen, lang, rc)


def new_figure(style: Style, rows: int = 1, min_height: float | None = None) -> Figure:
    """An empty figure sized for the style, not registered with pyplot (nothing global).

    The figure remembers its style (``figure.spamsim_style``) so that :func:`~spamsim.plots.save`
    writes it with the same settings.
    """
    fig = Figure(figsize=style.theme.figsize(rows, min_height), layout="constrained")
    # A canvas so that fig.canvas.draw() and savefig work without pyplot.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.spamsim_style = style  # type: ignore[attr-defined]
    return fig


def title(ax: Any, style: Style, text: str) -> None:
    """Set the figure's title in the lecture theme (papers put it in the caption).

    The title goes at the top left of the figure, not over the axes, so that every figure
    has its title in the same place whatever its labels and panels.
    """
    suptitle(ax.figure, style, text)


def suptitle(fig: Figure, style: Style, text: str) -> None:
    """Set a figure title in the lecture theme (papers put it in the caption)."""
    if style.theme.show_title and text:
        fig.suptitle(text, x=0.01, ha="left", fontweight=mpl.rcParams["axes.titleweight"])

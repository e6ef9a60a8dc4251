"""The lecture app: spamsim in the browser (``spamsim app``), built on Shiny for Python.

Sliders, switches and figures over the same library calls as the command line: the closed
form (:mod:`spamsim.analysis.analytic`), runs (:func:`spamsim.run`), paired countermeasure
effects (:func:`spamsim.compare`) and the figures of :mod:`spamsim.plots`. The library never
imports this package; it needs the ``app`` extra (``pip install 'spamsim[app]'``).
"""

from __future__ import annotations

INSTALL_HINT = "pip install 'spamsim[app]'"
"""What to run when Shiny is missing."""


def create_app(preset: str = "lecture", lang: str = "en"):  # type: ignore[no-untyped-def]
    """The Shiny app starting from ``preset`` (a key of :data:`spamsim.app.presets.PRESETS`) in ``lang``."""
    import threading

    from shiny import App

    from ..plots.style import japanese_font_path
    from .layout import FONT_URL, page
    from .server import server_for
    from .workers import BACKGROUND, FOREGROUND

    # The workers' fork server imports the library (a second or two): while the server
    # starts, not at the first click.
    def warm() -> None:
        FOREGROUND.warm()
        BACKGROUND.warm()

    threading.Thread(target=warm, daemon=True, name="spamsim-app-warm").start()

    # Japanese glyphs come from the font matplotlib-fontja ships (IPAexGothic), served from
    # here: a lecture-hall PC may have no Japanese font, and web fonts from outside are not used.
    font = japanese_font_path()
    assets = {FONT_URL.rsplit("/", 1)[0]: font.parent} if font is not None else None
    return App(page(preset, lang, japanese_font=font is not None), server_for(preset, lang), static_assets=assets)


def serve(
    preset: str = "lecture", *, host: str = "127.0.0.1", port: int = 8000, browser: bool = True, lang: str = "en"
) -> None:
    """Serve the app on ``host:port`` until interrupted, opening the browser unless ``browser`` is False."""
    from shiny import run_app

    run_app(create_app(preset, lang), host=host, port=port, launch_browser=browser, dev_mode=False, log_level="warning")

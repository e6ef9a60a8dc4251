"""The page: a sidebar of controls beside tabs of numbers and figures (Shiny for Python).

Everything a user reads is rendered by the server in the chosen language, so the page shell
holds only the parts that never change: ids, the projector style and a copy-to-clipboard
script. Every script, style and font comes from the Shiny package itself (no CDN, no web
fonts): the page works with no network beyond this machine.
"""

from __future__ import annotations

from shiny import ui

from ..i18n import LANGS
from .presets import available

FONT_URL = "/spamsim-fonts/ipaexg.ttf"
"""Where the page loads its Japanese font from (this server: the file matplotlib-fontja ships)."""

FONT_CSS = """
@font-face { font-family: "spamsim-ja"; src: url("spamsim-fonts/ipaexg.ttf") format("truetype");
             unicode-range: U+3000-30FF, U+4E00-9FFF, U+FF00-FFEF; }
"""
"""Japanese glyphs from the shipped font, only for the characters that need it."""

BASE_CSS = """
/* spamsim-ja first: it covers only Japanese characters (unicode-range), and system-ui may claim
   them and draw boxes where the system has no Japanese font. */
body, .control-label, label { font-family: "spamsim-ja", system-ui, -apple-system, "Segoe UI", "Hiragino Sans",
       "Yu Gothic", "Noto Sans CJK JP", sans-serif; }
.spamsim-numbers td, .spamsim-numbers th { padding: 0.2em 0.8em; text-align: right; }
.spamsim-numbers td:first-child, .spamsim-numbers th:first-child { text-align: left; }
.spamsim-value { font-weight: 600; font-variant-numeric: tabular-nums; }
.spamsim-problems { color: #8b0000; background: #fff0f0; border: 2px solid #8b0000; padding: 0.6em;
                    white-space: pre-wrap; font-family: ui-monospace, monospace; }
.spamsim-note { color: #444; font-size: 0.9em; }
.spamsim-figure { max-width: 100%; height: auto; }
.spamsim-stale { opacity: 0.35; transition: opacity 0.2s; }
.spamsim-control-value { font-weight: 600; margin-top: -0.8em; margin-bottom: 0.6em; }
"""

PROJECTOR_CSS = """
body, .bslib-sidebar-layout, .card, .sidebar { font-size: 1.45rem !important; color: #000 !important;
  background: #fff !important; }
.spamsim-value { font-size: 1.7rem; }
.nav-link { color: #000 !important; font-weight: 700; }
.irs--shiny .irs-bar { background: #000 !important; border-color: #000 !important; }
.irs--shiny .irs-handle { border-color: #000 !important; }
.spamsim-note { color: #000; }
"""
"""The projector theme: large type and black on white (turned on with the switch; read from far)."""

COPY_JS = """
function spamsimCopyYaml() {
  const text = document.getElementById('yaml-text').innerText;
  const done = () => { document.getElementById('yaml-copied').style.visibility = 'visible'; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); document.body.removeChild(area); done();
  }
}
"""
"""Copy the exported YAML to the clipboard (served inline with the page: no request)."""

SLIDER_THROTTLE_MS = 100
"""While a slider is dragged, at most one value per this many ms goes to the server; a click's at once."""

FAST_SLIDERS_JS = f"""
// Shiny waits 250 ms after a slider stops before sending its value (debounce). Here a value is
// sent at once, then at most one per {SLIDER_THROTTLE_MS} ms while the slider is dragged (throttle):
// the server cancels a superseded run. (The sliders are rendered by the server, so they are
// bound after this runs.)
document.addEventListener('DOMContentLoaded', function () {{
  for (const entry of Shiny.inputBindings.getBindings()) {{
    if (entry.binding.name === 'shiny.sliderInput') {{
      entry.binding.getRatePolicy = function () {{ return {{policy: 'throttle', delay: {SLIDER_THROTTLE_MS}}}; }};
    }}
  }}
}});
// ion.rangeSlider moves the handle of a clicked slider (or one moved by a key) only at its next
// idle redraw, which comes every 300 ms: 150 ms on average between a click and the page knowing
// the new value. Redraw it right after its own handler has run. (Capture phase: the slider stops
// the event from bubbling.)
function spamsimRedrawSlider(event) {{
  const inSlider = event.target.closest && event.target.closest('.irs');
  const box = inSlider ? event.target.closest('.shiny-input-container') : null;
  const input = box ? box.querySelector('input.js-range-slider') : null;
  if (!input) return;
  setTimeout(function () {{
    const slider = $(input).data('ionRangeSlider');
    if (slider && slider.updateScene) slider.updateScene();
  }}, 0);
}}
for (const type of ['mousedown', 'touchstart', 'keydown']) {{
  document.addEventListener(type, spamsimRedrawSlider, true);
}}
"""
"""Send slider values at once (the answer is fast; Shiny's and the slider's waits were most of the latency)."""


def page(preset: str, lang: str, japanese_font: bool = True) -> ui.Tag:
    """The page shell; ``preset`` and ``lang`` are the choices it starts with.

    ``japanese_font``: the server serves the shipped Japanese font at :data:`FONT_URL`.
    """
    return ui.page_sidebar(
        ui.sidebar(
            ui.input_radio_buttons(
                "lang", "EN / 日本語", {code: code.upper() for code in LANGS}, selected=lang, inline=True
            ),
            ui.input_select("preset", "Preset", {p.key: p.label for p in available()}, selected=preset),
            ui.input_switch("projector", "Projector", value=False),
            ui.output_ui("controls"),
            width=380,
            id="sidebar",
        ),
        ui.head_content(
            ui.tags.style((FONT_CSS if japanese_font else "") + BASE_CSS), ui.tags.script(COPY_JS + FAST_SLIDERS_JS)
        ),
        ui.output_ui("projector_css"),
        ui.div(
            ui.output_ui("status", inline=True),
            ui.input_action_button("cancel", "Cancel", class_="btn-sm btn-outline-danger"),
            class_="d-flex gap-3 align-items-center",
        ),
        ui.output_ui("problems"),
        ui.navset_card_tab(
            ui.nav_panel(
                ui.output_text("tab_numbers", inline=True),
                ui.output_ui("numbers"),
                ui.output_ui("funnel_ui"),
                value="numbers",
            ),
            ui.nav_panel(ui.output_text("tab_deterrence", inline=True), ui.output_ui("deterrence"), value="deterrence"),
            ui.nav_panel(ui.output_text("tab_effects", inline=True), ui.output_ui("effects"), value="effects"),
            ui.nav_panel(ui.output_text("tab_history", inline=True), ui.output_ui("history"), value="history"),
            ui.nav_panel(ui.output_text("tab_yaml", inline=True), ui.output_ui("yaml"), value="yaml"),
            id="tab",
        ),
        title=ui.output_text("title", inline=True),
        window_title="spamsim",
        lang=lang,
    )

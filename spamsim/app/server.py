"""What the page computes: scenario from the controls, closed form at once, simulations in a job.

The closed-form numbers (:mod:`spamsim.analysis.analytic`, :mod:`spamsim.analysis.curves`)
are recomputed on every change, in the request itself: they take milliseconds. Simulated
numbers come from a :class:`~spamsim.app.jobs.Job`: a quick run sized to answer within half a
second, the countermeasure effects, then a refined run, each shown as soon as it is done (a job
wakes the page); a change of a control cancels the job and starts the next. All of it runs in
worker processes (:mod:`spamsim.app.workers`), figures included: in the server's own process it
held back the next click, and the quick run took up to twice as long.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import html
import math
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from shiny import Inputs, Outputs, Session, reactive, render, ui

from .. import fmt
from ..analysis import curves
from ..analysis.analytic import _spammer_terms, applicability, deterrence_frontier
from ..analysis.effects import Comparison
from ..i18n import N_, gettext
from ..names import countermeasure_label, metric_name
from ..scenario.errors import ScenarioError
from ..scenario.loader import load
from ..scenario.schema import Scenario
from . import controls, figures, jobs
from .presets import TIMELINE, Preset, available, preset_path
from .trace import mark

ROWS = ("attempted", "inbox", "sales", "revenue", "cost", "fines", "net_profit")
"""Rows of the numbers table (closed form and simulation side by side)."""

CLOSED_FORM_KEYS = {"attempted": "messages"}
"""Where a row's closed-form value has another name in :func:`~spamsim.analysis.curves.expected_totals`."""

MONEY = {"revenue", "cost", "fines", "net_profit"}

POLL_SECONDS = 0.25
"""How often the page refreshes a running job's progress bar (results wake it at once)."""

HISTORY_REPS = 8
"""Replications of the 1998-2012 history (about 0.25 s each on a 2-core machine): enough for its bands."""

SECONDS_PER_REP: dict[str, float] = {}
"""Measured cost of one replication per preset in a long run, to size the next long runs (shared by sessions)."""

FIRST_RUN: dict[str, tuple[int, float]] = {}
"""Replications and seconds of each preset's last quick run. A run also has a fixed cost (building
the world: about 0.2 s for japan-2011), so quick runs are sized from quick runs, not from the
per-replication cost of long ones."""

FIRST_GUESS_REPS = 20
"""Replications of the first run of a preset, before its cost is known."""


@functools.cache
def preset_scenario(key: str) -> Scenario:
    """The shipped scenario of a preset (loaded once)."""
    return load(preset_path(key))


def input_id(name: str, preset: str) -> str:
    """Id of a control for one preset: a new preset gets new inputs, which start at its own values."""
    return f"{name}__{re.sub(r'[^A-Za-z0-9_]', '_', preset)}"


def preset_of(key: str) -> Preset:
    """The preset with ``key``."""
    return next(p for p in (*available(), TIMELINE) if p.key == key)


def _(msgid: str, lang: str, **values: object) -> str:
    return gettext(msgid, lang, **values)


def effect_names(scenario: Scenario) -> list[str]:
    """Countermeasures switched on in ``scenario`` (the effects chart shows each of them)."""
    return [name for name in scenario.countermeasures.names() if scenario.countermeasures.active(name)]


def plan(scenario: Scenario, key: str, with_effects: bool) -> list[jobs.Stage]:
    """The stages of the job for ``scenario``: quick run, effects (if any switched on), refined run."""
    quick = FIRST_RUN.get(key)
    # Rounded to a few steady counts: the measured cost varies from click to click, and a
    # setting seen again should show the same numbers (and find its quick run kept).
    first = jobs.steady_reps(
        FIRST_GUESS_REPS if quick is None else jobs.plan_reps(quick[1] / quick[0], jobs.FIRST_SECONDS, 10, 200)
    )
    per_rep = SECONDS_PER_REP.get(key) or (quick[1] / quick[0] if quick else None)
    refine = jobs.plan_reps(per_rep or 0.01, jobs.REFINE_SECONDS, first, 2000)
    stages = [jobs.simulate(scenario, first)]
    names = effect_names(scenario)
    if with_effects and names:
        variants = jobs.effect_variants(len(names))
        reps = jobs.plan_reps(per_rep or 0.01, jobs.EFFECT_SECONDS / variants, 10, 200)
        stages.append(jobs.effects(scenario, names, reps))
    if refine > first:
        stages.append(jobs.simulate(scenario, refine, background=True))
    return stages


def numbers_table(totals: dict[str, float], sim: jobs.Simulated | None, currency: str, lang: str) -> ui.Tag:
    """Closed form next to the simulated mean and its 95 % CI; cells carry ids for tests and scripts."""
    head = ui.tags.tr(
        ui.tags.th(""),
        ui.tags.th(_(N_("Closed form"), lang)),
        ui.tags.th(_(N_("Simulated mean"), lang)),
        ui.tags.th(_(N_("95 % CI"), lang)),
    )
    rows = [head]
    summary = sim.result.summary if sim is not None else None
    for metric in ROWS:

        def show(x: float, metric: str = metric) -> str:
            return fmt.money(x, currency, lang) if metric in MONEY else fmt.number(x, "count", lang)

        closed = totals.get(CLOSED_FORM_KEYS.get(metric, metric), math.nan)
        if summary is not None and metric in summary.index:
            row = summary.loc[metric]
            mean, lo, hi = show(row["mean"]), show(row["ci95_low"]), show(row["ci95_high"])
            ci = f"[{lo}, {hi}]"
        else:
            mean, ci = "…", ""
        rows.append(
            ui.tags.tr(
                ui.tags.td(metric_name(metric, lang)),
                ui.tags.td(ui.tags.span(show(closed), id=f"{metric}-closed", class_="spamsim-value")),
                ui.tags.td(ui.tags.span(mean, id=f"{metric}-sim", class_="spamsim-value")),
                ui.tags.td(ui.tags.span(ci, id=f"{metric}-ci")),
            )
        )
    return ui.tags.table(*rows, class_="spamsim-numbers table table-sm")


@dataclass(frozen=True)
class Drawing:
    """Figures drawn in the background: a line of text and images as (data URI, alt text, element id)."""

    text: str
    images: tuple[tuple[str, str, str], ...]
    stale: bool = False
    """Being redrawn for newer numbers (shown dimmed)."""


def show(drawing: Drawing | None, text_id: str = "") -> ui.TagList | None:
    """A drawing in the page: its text (with ``text_id``), then its images."""
    if drawing is None:
        return None
    items: list[Any] = []
    if drawing.text:
        items.append(ui.p(drawing.text, id=text_id or None, class_="spamsim-value"))
    items += [ui.tags.img(src=uri, alt=alt, id=ident, class_="spamsim-figure") for uri, alt, ident in drawing.images]
    if drawing.stale:
        return ui.TagList(ui.div(*items, class_="spamsim-stale", **{"aria-busy": "true"}))
    return ui.TagList(*items)


def problems_box(error: ScenarioError, lang: str) -> ui.Tag:
    """The scenario loader's own messages, one per line, as ``spamsim validate`` prints them."""
    return ui.div(
        ui.tags.strong(_(N_("This combination is not a valid scenario:"), lang)),
        ui.tags.pre("\n".join(str(p) for p in error.problems)),
        class_="spamsim-problems",
        id="problems",
    )


def drawing(draw: Any, *args: Any, progress: jobs.Report) -> Drawing:
    """``draw(*args)``, as a background worker calls it (figures report no progress)."""
    return draw(*args)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Summarised:
    """What the funnel figure reads of a run: its scenario and summary.

    Sent to a drawing process in place of the run, whose ledger (80 MB for 2,000 replications
    of japan-2011) took half a second to send, holding back the next click.
    """

    scenario: Scenario
    summary: pd.DataFrame

    @classmethod
    def of(cls, shown: jobs.Simulated) -> Summarised:
        """The scenario and summary of a run shown."""
        return cls(shown.result.scenario, shown.result.summary)


def draw_funnel(shown: Summarised, lang: str) -> Drawing:
    """The funnel of a run (:func:`spamsim.plots.funnel.funnel` reads only its scenario and summary)."""
    from ..plots.funnel import funnel

    uri = figures.draw(lambda: funnel(shown, lang=lang))  # type: ignore[arg-type]
    return Drawing("", ((uri, _(N_("Funnel"), lang), "funnel-figure"),))


def draw_effects(comparison: Comparison, lang: str) -> Drawing:
    """Each countermeasure's effect, alone and removed; the alt text names them."""
    from ..plots.effects import effects

    alt = _(N_("Effects of: {names}"), lang, names=", ".join(countermeasure_label(n, lang) for n in comparison.names))
    return Drawing("", ((figures.draw(lambda: effects(comparison, lang=lang)), alt, "effects-figure"),))


def draw_deterrence(scenario: Scenario, lang: str) -> Drawing:
    """Break-even success rate and curve, and the deterrence frontier (closed form)."""
    from ..plots.deterrence import break_even

    curve = curves.break_even_curve(scenario)
    frame = deterrence_frontier(scenario)
    enf = scenario.enforcement
    text = _(
        N_("Break-even success rate: {rate} (this scenario: {own})"),
        lang,
        rate=fmt.rate(curve.break_even_success_rate, lang),
        own=fmt.rate(curve.success_rate, lang),
    )
    frontier_uri = figures.draw(
        lambda: figures.frontier(
            frame,
            scenario.market.currency,
            lang,
            caught_probability=float(controls.scenario_value(scenario, controls.BY_ID["caught"])),
            fines={
                "individual": float(np.mean(enf.fines.individual)),
                "corporation": float(np.mean(enf.fines.corporation)),
            },
        )
    )
    return Drawing(
        text,
        (
            (figures.draw(lambda: break_even(curve, lang=lang)), _(N_("Break-even"), lang), "break-even-figure"),
            (frontier_uri, _(N_("Deterrence frontier"), lang), "frontier-figure"),
        ),
    )


def draw_history(shown: jobs.Simulated, year: float, lang: str) -> Drawing:
    """The 1998-2012 timeline marked at ``year``, with spam's share of mail then."""
    from ..plots.timeline import timeline

    frame = curves.world_series(shown.result, ["spam_share"])
    time_col = curves.time_column(shown.result.scenario)
    row = frame.iloc[int(np.argmin(np.abs(frame[time_col].to_numpy() - year)))]
    share = _(
        N_("{year}: spam share of arriving mail {share}"),
        lang,
        year=f"{year:.2f}",
        share=fmt.percent(row["mean"], 3, lang),
    )
    uri = figures.draw(lambda: figures.mark_time(timeline(shown.result, lang=lang), year))
    return Drawing(share, ((uri, share, "history-figure"),))


def blocked_table(sim: jobs.Simulated, lang: str) -> ui.Tag:
    """Where the spam went: messages blocked by each countermeasure, and each channel's mail."""
    result = sim.result
    reps = result.replications
    rows = [ui.tags.tr(ui.tags.th(_(N_("Blocked by"), lang)), ui.tags.th(_(N_("Messages (mean)"), lang)))]
    for name in result.blocked_by:
        value = float(reps[f"blocked_by.{name}"].mean())
        rows.append(
            ui.tags.tr(ui.tags.td(countermeasure_label(name, lang)), ui.tags.td(fmt.number(value, "count", lang)))
        )
    by_channel = result.by_channel
    channel_rows = [
        ui.tags.tr(
            ui.tags.th(_(N_("Channel"), lang)),
            *(ui.tags.th(metric_name(m, lang)) for m in ("attempted", "delivered", "inbox") if m in by_channel.columns),
        )
    ]
    for channel, row in by_channel.iterrows():
        channel_rows.append(
            ui.tags.tr(
                ui.tags.td(_channel_name(str(channel), lang)),
                *(
                    ui.tags.td(fmt.number(row[m], "count", lang))
                    for m in ("attempted", "delivered", "inbox")
                    if m in by_channel.columns
                ),
            )
        )
    return ui.div(
        ui.tags.table(*rows, class_="spamsim-numbers table table-sm", id="blocked-table"),
        ui.tags.table(*channel_rows, class_="spamsim-numbers table table-sm", id="channel-table"),
    )


def _channel_name(name: str, lang: str) -> str:
    from ..names import channel_label

    return channel_label(name, lang)


def server_for(start_preset: str, start_lang: str) -> Any:
    """The Shiny server function, starting from ``start_preset`` in ``start_lang``."""

    def server(input: Inputs, output: Outputs, session: Session) -> None:  # noqa: A002 - Shiny's name
        job: reactive.Value[jobs.Job | None] = reactive.value(None)
        sim: reactive.Value[jobs.Simulated | None] = reactive.value(None)
        comparison: reactive.Value[Comparison | None] = reactive.value(None)
        job_error: reactive.Value[str | None] = reactive.value(None)
        progress: reactive.Value[tuple[str, float, bool]] = reactive.value(("", 0.0, True))
        history_job: reactive.Value[jobs.Job | None] = reactive.value(None)
        history: reactive.Value[jobs.Simulated | None] = reactive.value(None)
        history_progress: reactive.Value[tuple[float, bool]] = reactive.value((0.0, True))
        """The history run's progress and whether it has ended (the bar goes when it has)."""
        timings: list[dict[str, float]] = []
        last_change = {"at": time.perf_counter()}
        last_job: dict[str, jobs.Job | None] = {"job": None}

        # One ticker per session wakes the readers of running jobs. (Shiny's invalidate_later
        # prints a traceback when a reader it waits for is invalidated meanwhile: it is, here.)
        # A job wakes it as soon as it publishes a result: waiting for the next poll added half
        # a poll period to every click; the poll itself only moves the progress bars.
        tick: reactive.Value[int] = reactive.value(0)
        running: list[jobs.Job] = []
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def poke() -> None:
            """Wake the ticker (called from a job's thread)."""
            with contextlib.suppress(RuntimeError):  # the session's loop has closed
                loop.call_soon_threadsafe(wake.set)

        def watch(new: jobs.Job) -> jobs.Job:
            running.append(new)
            return new

        drawings: list[reactive.Value[jobs.Job | None]] = []
        """The job drawing each figure (see ``drawn``)."""

        async def ticker() -> None:
            while True:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                wake.clear()
                if running:
                    # A job that had finished before this tick is read once more now, then dropped.
                    done = [j for j in running if j.finished]
                    async with reactive.lock():
                        with reactive.isolate():
                            tick.set(tick() + 1)
                        await reactive.flush()
                    running[:] = [j for j in running if j not in done]

        session.on_flushed(lambda: mark("flushed"), once=False)  # the page's outputs have been sent
        ticking = asyncio.create_task(ticker())
        session.on_ended(ticking.cancel)

        def lang() -> str:
            return str(input.lang())

        def preset() -> str:
            return str(input.preset())

        # -- the controls ------------------------------------------------------------------
        @render.ui
        def controls_ui() -> ui.TagList:
            key, language = preset(), lang()
            scenario = preset_scenario(key)
            at_preset = controls.preset_positions(scenario)
            items: list[Any] = []
            for control in controls.CONTROLS:
                ident = input_id(control.id, key)
                with reactive.isolate():
                    value = input[ident]() if ident in input else at_preset[control.id]
                items.append(
                    ui.input_slider(
                        ident,
                        controls.label(control, language),
                        control.low,
                        control.high,
                        value,
                        step=control.step,
                        pre="10^" if control.kind == "log" else None,
                    )
                )
                items.append(ui.output_ui(f"value_{control.id}", class_="spamsim-control-value"))
            states = controls.countermeasure_states(scenario)
            if states:
                items.append(ui.tags.h5(_(N_("Countermeasures"), language)))
            for name, on in states.items():
                ident = input_id(f"cm_{name}", key)
                with reactive.isolate():
                    value = bool(input[ident]()) if ident in input else on
                items.append(ui.input_switch(ident, countermeasure_label(name, language), value=value))
            return ui.TagList(*items)

        output(id="controls")(controls_ui)

        for _control in controls.CONTROLS:

            def make(control: controls.Control) -> None:
                @render.ui
                def value_ui() -> ui.Tag:
                    key = preset()
                    ident = input_id(control.id, key)
                    scenario = preset_scenario(key)
                    at_preset = controls.preset_positions(scenario)[control.id]
                    pos = input[ident]() if ident in input else at_preset
                    # At the preset's notch the preset's own value holds (500, not 10^2.7 = 501).
                    exact = controls.scenario_value(scenario, control) if pos == at_preset else None
                    text = controls.describe(control, pos, scenario.market.currency, lang(), exact=exact)
                    return ui.span(text, id=f"value-{control.id}")

                output(id=f"value_{control.id}")(value_ui)

            make(_control)

        @reactive.calc
        def edits() -> list[str]:
            key = preset()
            scenario = preset_scenario(key)
            positions = {}
            for control in controls.CONTROLS:
                ident = input_id(control.id, key)
                if ident in input:
                    positions[control.id] = float(input[ident]())
            switches = {}
            for name in controls.countermeasure_states(scenario):
                ident = input_id(f"cm_{name}", key)
                if ident in input:
                    switches[name] = bool(input[ident]())
            return controls.overrides(scenario, positions, switches)

        @reactive.calc
        def built() -> Scenario | ScenarioError:
            try:
                return controls.build(preset_scenario(preset()), edits())
            except ScenarioError as exc:
                return exc

        def scenario_or_none() -> Scenario | None:
            value = built()
            return value if isinstance(value, Scenario) else None

        # -- the job: quick run, effects, refined run ---------------------------------------
        @reactive.effect
        def _start() -> None:
            scenario = scenario_or_none()
            key = preset()
            old = last_job["job"]  # not job(): an invalid combination in between sets that to None
            if old is not None:
                old.cancel()
            last_change["at"] = time.perf_counter()
            mark("start", preset=key, old_running=old is not None and not old.finished)
            # Figures still being drawn show numbers about to be replaced: stop them now, so
            # that they leave the processor to the quick run.
            for holder in drawings:
                with reactive.isolate():
                    drawing_job = holder()
                if drawing_job is not None:
                    drawing_job.cancel()
            if scenario is None:
                job.set(None)
                return
            job_error.set(None)
            # After the old job, which is cancelled: its worker is killed at once. The quick run
            # starts at once too, in a worker process of its own, while this update (the closed
            # form) is being sent.
            last_job["job"] = watch(jobs.Job(plan(scenario, key, with_effects=True), after=old, on_change=poke))
            job.set(last_job["job"])
            # The numbers shown belong to the old scenario until the new ones arrive: drop them.
            sim.set(None)
            comparison.set(None)

        @reactive.effect
        def _poll() -> None:
            current = job()
            if current is None:
                progress.set(("", 0.0, True))
                return
            if not current.finished:
                tick()
            with reactive.isolate():
                shown = sim()
            key = preset()
            for name, value in list(current.results.items()):
                if isinstance(value, jobs.Simulated) and (shown is None or value.reps > shown.reps):
                    sim.set(value)
                    mark("sim-set", reps=value.reps)
                    shown = value
                    seconds = current.seconds.get(name, 0.0)
                    if value.cached:
                        pass  # shown again, not run: its time sizes nothing
                    elif name == current.stages[0].name:
                        FIRST_RUN[key] = (value.reps, seconds)
                    else:
                        SECONDS_PER_REP[key] = seconds / max(value.reps, 1)
                    timings.append(
                        {
                            "reps": value.reps,
                            "run_s": seconds,
                            "since_change_s": time.perf_counter() - last_change["at"],
                        }
                    )
                elif isinstance(value, Comparison):
                    with reactive.isolate():
                        if comparison() is not value:
                            comparison.set(value)
            if current.error is not None:
                job_error.set(str(current.error))
            progress.set((current.stage, current.fraction, current.finished))

        def on_tab(tab: str) -> bool:
            """Whether ``tab`` is the one shown (figures of hidden tabs are not drawn)."""
            return "tab" in input and input.tab() == tab

        def drawn(source: Any, draw: Any, name: str) -> reactive.Value[Drawing | None]:
            """Figures ``draw(*source())`` drawn in a background process, published when done.

            Figures take most of a second to draw (more on a busy machine); drawn in the
            server's process, even in a thread, they would hold back the numbers and every click
            after them (matplotlib holds the interpreter lock). ``draw`` is a module-level
            function (the worker gets it by name).
            """
            out: reactive.Value[Drawing | None] = reactive.value(None)
            holder: reactive.Value[jobs.Job | None] = reactive.value(None)
            drawings.append(holder)

            @reactive.effect
            def _submit() -> None:
                value = source()
                with reactive.isolate():
                    old = holder()
                if old is not None:
                    old.cancel()  # its figure is for numbers no longer shown: stop drawing it
                if value is None:
                    holder.set(None)
                    out.set(None)
                    return
                mark("draw-submit", name=name)
                holder.set(watch(jobs.Job([jobs.in_background(name, drawing, draw, *value)], on_change=poke)))
                with reactive.isolate():
                    shown = out()
                if shown is not None and not shown.stale:
                    # The figure on screen no longer matches the numbers: dim it until redrawn.
                    out.set(dataclasses.replace(shown, stale=True))

            @reactive.effect
            def _collect() -> None:
                current = holder()
                if current is None:
                    return
                if not current.finished:
                    tick()
                    return
                if current.error is not None:
                    out.set(Drawing(text=f"{type(current.error).__name__}: {current.error}", images=()))
                elif name in current.results:
                    mark("draw-shown", name=name)
                    out.set(current.results[name])

            return out

        @reactive.effect
        @reactive.event(input.cancel)
        def _cancel() -> None:
            current = job()
            if current is not None:
                current.cancel()

        # -- what the page shows -----------------------------------------------------------
        @render.text
        def title() -> str:
            return _(N_("spamsim lecture mode: does spam pay?"), lang())

        for tab, msgid in (
            ("tab_numbers", N_("Money and funnel")),
            ("tab_deterrence", N_("Break-even and deterrence")),
            ("tab_effects", N_("Countermeasures")),
            ("tab_history", N_("History step by step")),
            ("tab_yaml", N_("Scenario YAML")),
        ):

            def make_tab(tab: str, msgid: str) -> None:
                @render.text
                def tab_text() -> str:
                    return _(msgid, lang())

                output(id=tab)(tab_text)

            make_tab(tab, msgid)

        @reactive.effect
        def _translate_shell() -> None:
            language = lang()
            ui.update_select(
                "preset",
                label=_(N_("Preset"), language),
                choices={p.key: (p.label if p.key.startswith("file:") else _(p.label, language)) for p in available()},
                selected=preset(),
            )
            ui.update_switch("projector", label=_(N_("Projector theme (large type, high contrast)"), language))
            ui.update_action_button("cancel", label=_(N_("Cancel"), language))

        @render.ui
        def projector_css() -> ui.Tag | None:
            return ui.tags.style(layout_projector_css()) if input.projector() else None

        @render.ui
        def status() -> ui.Tag:
            language = lang()
            stage, fraction, finished = progress()
            shown = sim()
            parts: list[Any] = []
            if shown is not None:
                parts.append(
                    _(
                        N_("Simulated: {reps} replications, seed {seed}."),
                        language,
                        reps=fmt.number(shown.reps, "count", language),
                        seed=shown.seed,
                    )
                )
            if not finished:
                what = (
                    _(N_("estimating countermeasure effects"), language)
                    if stage == "effects"
                    else _(N_("simulating"), language)
                )
                parts.append(
                    ui.span(f" {what}… ", ui.tags.progress(value=f"{fraction:.3f}", max="1", id="job-progress"))
                )
            current = job()
            if current is not None and current.cancelled:
                parts.append(" " + _(N_("Cancelled: the numbers shown are from the last finished run."), language))
            if job_error() is not None:
                parts.append(ui.div(str(job_error()), class_="spamsim-problems"))
            return ui.div(*parts, id="status", class_="spamsim-note")

        @render.ui
        def problems() -> ui.Tag | None:
            value = built()
            return problems_box(value, lang()) if isinstance(value, ScenarioError) else None

        @reactive.calc
        def closed_form() -> dict[str, float]:
            scenario = scenario_or_none()
            if scenario is None:
                return {}
            totals = curves.expected_totals(scenario)
            totals["inbox"] = float(sum(_spammer_terms(scenario, s)["inbox"] for s in scenario.spammers))
            return totals

        @render.ui
        def numbers() -> ui.TagList:
            language = lang()
            scenario = scenario_or_none()
            if scenario is None:
                return ui.TagList()
            currency = scenario.market.currency
            shown = sim()
            mark("numbers-render", sim=shown.reps if shown is not None else None)
            items: list[Any] = [numbers_table(closed_form(), shown, currency, language)]
            reasons = applicability(scenario)
            if reasons:
                items.append(
                    ui.p(
                        _(
                            N_(
                                "The closed form covers only the own-server core of this scenario "
                                "(not: {reasons}); the simulation covers all of it."
                            ),
                            language,
                            reasons="; ".join(reasons),
                        ),
                        class_="spamsim-note",
                    )
                )
            return ui.TagList(*items)

        funnel_drawing = drawn(lambda: None if sim() is None else (Summarised.of(sim()), lang()), draw_funnel, "funnel")

        @render.ui
        def funnel_ui() -> ui.TagList | None:
            return show(funnel_drawing())

        deterrence_drawing = drawn(
            lambda: None if scenario_or_none() is None or not on_tab("deterrence") else (scenario_or_none(), lang()),
            draw_deterrence,
            "deterrence",
        )

        @render.ui
        def deterrence() -> ui.TagList | None:
            return show(deterrence_drawing(), "break-even")

        effects_drawing = drawn(
            lambda: None if comparison() is None or not on_tab("effects") else (comparison(), lang()),
            draw_effects,
            "effects",
        )

        @render.ui
        def effects() -> ui.TagList:
            language = lang()
            scenario = scenario_or_none()
            if scenario is None:
                return ui.TagList()
            names = effect_names(scenario)
            if not names:
                return ui.TagList(
                    ui.p(_(N_("No countermeasure is switched on in this scenario."), language), id="effects-none")
                )
            items: list[Any] = []
            shown_effects = effects_drawing()
            if shown_effects is None:
                items.append(ui.p(_(N_("Estimating countermeasure effects…"), language), class_="spamsim-note"))
            else:
                items.append(show(shown_effects))
            shown = sim()
            if shown is not None:
                items.append(ui.tags.h5(_(N_("Where the spam went"), language)))
                items.append(blocked_table(shown, language))
            return ui.TagList(*items)

        # -- history -----------------------------------------------------------------------
        @reactive.effect
        @reactive.event(input.history_run)
        def _history_run() -> None:
            old = history_job()
            if old is not None:
                old.cancel()
            history.set(None)
            stage = jobs.simulate(preset_scenario(TIMELINE.key), HISTORY_REPS, background=True)
            history_job.set(watch(jobs.Job([stage], on_change=poke)))

        @reactive.effect
        @reactive.event(input.history_cancel)
        def _history_cancel() -> None:
            current = history_job()
            if current is not None:
                current.cancel()

        @reactive.effect
        def _history_poll() -> None:
            current = history_job()
            if current is None:
                return
            if not current.finished:
                tick()
            history_progress.set((current.fraction, current.finished))
            for value in current.results.values():
                with reactive.isolate():
                    if history() is not value:
                        history.set(value)

        @render.ui
        def history_ui() -> ui.TagList:
            language = lang()
            scenario = preset_scenario(TIMELINE.key)
            history_job()
            items: list[Any] = [
                ui.p(_(N_("The history 1998-2012 (timeline.yaml), played step by step."), language)),
                ui.input_action_button("history_run", _(N_("Run the history"), language)),
            ]
            items.append(ui.input_action_button("history_cancel", _(N_("Cancel"), language), class_="btn-sm"))
            items.append(ui.output_ui("history_progress_ui"))
            start = float(scenario.horizon.start_year or 0)
            end = start + scenario.horizon_days / 365.25
            if history() is not None:
                with reactive.isolate():
                    at = float(input.history_year()) if "history_year" in input else start
                items.append(
                    ui.input_slider(
                        "history_year",
                        _(N_("Year"), language),
                        start,
                        round(end, 2),
                        at,
                        step=0.25,
                        sep="",
                        animate={"interval": 1500, "loop": False},
                    )
                )
                items.append(ui.output_ui("history_figure"))
            return ui.TagList(*items)

        output(id="history")(history_ui)

        @render.ui
        def history_progress_ui() -> ui.Tag | None:
            fraction, finished = history_progress()
            if finished:
                return None
            return ui.tags.progress(value=f"{fraction:.3f}", max="1", id="history-progress")

        history_drawing = drawn(
            lambda: (
                None
                if history() is None or "history_year" not in input or not on_tab("history")
                else (history(), float(input.history_year()), lang())
            ),
            draw_history,
            "history",
        )

        @render.ui
        def history_figure() -> ui.TagList | None:
            return show(history_drawing(), "history-share")

        # -- export ------------------------------------------------------------------------
        @reactive.calc
        def exported() -> str:
            scenario = scenario_or_none()
            if scenario is None:
                return ""
            shown = sim()
            return controls.scenario_yaml(
                scenario,
                preset_file=str(preset_path(preset()))
                if preset().startswith("file:")
                else f"scenarios/{preset_of(preset()).file}",
                edits=edits(),
                reps=shown.reps if shown is not None else None,
                seed=shown.seed if shown is not None else None,
            )

        @render.ui
        def yaml() -> ui.TagList:
            language = lang()
            return ui.TagList(
                ui.tags.button(
                    _(N_("Copy this as a scenario YAML"), language),
                    onclick="spamsimCopyYaml()",
                    class_="btn btn-primary",
                    id="copy-yaml",
                ),
                " ",
                ui.span(" " + _(N_("Copied."), language), id="yaml-copied", style="visibility:hidden"),
                ui.tags.pre(exported(), id="yaml-text"),
            )

        session.on_ended(lambda: _stop(job, history_job))
        session.spamsim_timings = timings  # type: ignore[attr-defined]

    return server


def _stop(*values: Any) -> None:
    """Cancel the session's jobs when its browser tab closes."""
    for value in values:
        with reactive.isolate():
            current = value()
        if current is not None:
            current.cancel()


def layout_projector_css() -> str:
    from .layout import PROJECTOR_CSS

    return PROJECTOR_CSS


__all__ = ["server_for", "plan", "numbers_table", "effect_names", "preset_scenario", "html"]

"""MkDocs hooks: the reference pages are generated from the code at build time, never committed.

* ``reference/cli.md`` walks the click command tree that typer builds from ``spamsim.cli.app``;
* ``reference/scenario.md`` walks ``Scenario.model_json_schema()`` (type, bounds, default and
  description of every field);
* the parameter table of the model reference (``<!-- spamsim:parameters -->`` in ``model.md``)
  comes from the same walk, with the units and sources the schema does not hold (:data:`UNITS`,
  :data:`SOURCES` below);
* ``BENCHMARKS.md``, ``SECURITY.md``, ``validation/README.md`` and the scenario files they link to
  are added from where they live in the repository (one source, no copies that go stale);
* ``docs/limits.md`` joins the navigation when it exists.

Registered in ``mkdocs.yml`` under ``hooks:``.
"""

from __future__ import annotations

import json
import re
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # document this checkout's code, whatever is installed
    sys.path.insert(0, str(ROOT))

INCLUDED = ["BENCHMARKS.md", "SECURITY.md", "validation/README.md"]
"""Repository pages published as they are (their paths in the site mirror the repository)."""

INCLUDED_GLOBS = ["scenarios/*.yaml", "scenarios/observed/*.yaml", "validation/*.yaml"]
"""Scenario files the pages link to, published as plain files."""

PARAMETERS_MARKER = "<!-- spamsim:parameters -->"
COST_DEFAULTS_MARKER = "<!-- spamsim:cost-defaults -->"

# -- units and sources the schema does not hold ------------------------------------------------

UNITS: dict[str, str] = {
    "horizon.days": "days",
    "horizon.step_hours": "hours",
    "horizon.start_year": "calendar year",
    "market.profit_per_sale": "currency per sale",
    "market.success_rate": "sales per inbox message",
    "market.funnel.open_rate": "opens per inbox message",
    "market.funnel.click_rate": "clicks per open",
    "market.funnel.visit_rate": "visits per inbox message",
    "market.funnel.purchase_rate": "sales per click (visit)",
    "costs.per_message": "currency per attempted message",
    "costs.per_send": "currency per send",
    "costs.fixed_per_day": "currency per campaign day",
    "enforcement.caught_probability": "probability over the campaign",
    "enforcement.detection_per_million_messages": "hazard per 10⁶ counted messages",
    "enforcement.prosecution_probability": "probability per detection",
    "enforcement.reach_abroad": "probability per conviction",
    "enforcement.fines.individual": "currency per conviction",
    "enforcement.fines.corporation": "currency per conviction",
    "spammers[].campaign.messages_per_send": "messages",
    "spammers[].campaign.sends_per_day": "sends per day",
    "spammers[].campaign.days": "days",
    "spammers[].campaign.start_day": "day",
    "spammers[].campaign.window_hours": "hours",
    "spammers[].budget": "currency",
    "spammers[].strategy.reaction_days": "days",
    "spammers[].strategy.shift": "share of the way per reassessment",
    "spammers[].strategy.exploration": "share of volume",
    "spammers[].strategy.prior_sales": "pseudo-sales",
    "spammers[].strategy.memory_days": "days (e-folding)",
    "spammers[].strategy.quit_after_days": "days",
    "channels.own_server.capacity_per_hour": "messages per server-hour",
    "channels.own_server.cost_per_day": "currency per campaign day",
    "channels.open_relays.count": "relays",
    "channels.open_relays.capacity_per_hour": "messages per relay-hour",
    "channels.open_relays.initially_known": "share of relays",
    "channels.open_relays.discovery_per_day": "share of unknown relays per day",
    "channels.compromised_accounts.initial_accounts": "accounts",
    "channels.compromised_accounts.theft_per_day": "accounts per day",
    "channels.compromised_accounts.lockout_rate_per_day": "hazard per account-day",
    "channels.compromised_accounts.sends_per_account_hour": "messages per account-hour",
    "channels.compromised_accounts.cost_per_account_day": "currency per account-day",
    "legitimate_mail.messages_per_day": "messages per day",
    "networks[].hosts": "hosts",
    "networks[].op25b": "share of hosts",
    "networks[].antivirus_cleanup_rate_per_day": "hazard per bot-day",
    "networks[].dynamic_ip_listed_share": "share of addresses",
    "networks[].nat_hosts_per_address": "hosts per address",
    "events[].day": "day",
    "events[].year": "calendar year",
    "countermeasures.open_relay_prevention.adoption": "share of relays",
    "countermeasures.op25b.adoption": "share of bots' hosts",
    "countermeasures.rate_limiting.messages_per_account_hour": "messages per account-hour",
    "countermeasures.receiver_filtering.catch_rate": "share of delivered spam",
    "countermeasures.receiver_filtering.false_positive_rate": "share of legitimate mail",
    "countermeasures.blacklists.adoption": "share of receivers",
    "countermeasures.blacklists.listing_delay_hours": "hours (mean)",
    "countermeasures.blacklists.dynamic_ip_listed_share": "share of addresses",
    "countermeasures.antivirus.cleanup_rate_per_day": "hazard per bot-day",
    "countermeasures.antivirus.signature_lag_days": "days",
    "countermeasures.antivirus.new_variant_every_days": "days",
    "countermeasures.submission_auth.pop_window_minutes": "minutes",
}
"""Unit of each numeric field; botnet fields share theirs (see :func:`_unit`)."""

UNITS.update(
    {
        "defenders.servers": "mail servers",
        "defenders.organisations": "organisations",
        "defenders.users": "users (mailboxes)",
        "defenders.value_of_time_per_hour": "currency per user-hour",
    }
)

COST_UNITS: dict[str, str] = {
    f"per_{who}.{what}": f"currency per {who}{suffix}"
    for who in ("server", "organisation", "user")
    for what, suffix in (("one_off", ", once"), ("running_per_day", "-day"))
}
COST_UNITS.update(
    {
        "migration_days": "days (counted once)",
        "migration_running_per_server_day": "currency per server-day of migration",
        "friction_minutes_per_user": "minutes per user, once",
        "coverage": "share of servers, organisations and users",
    }
)
"""Unit of each field of a countermeasure's ``cost`` section, by its path inside it."""

BOTNET_UNITS: dict[str, str] = {
    "hosts": "hosts",
    "initial_bots": "hosts",
    "infection_rate_per_day": "hazard per clean host-day",
    "sends_per_bot_hour": "messages per bot-hour",
    "share_direct_to_mx": "share of messages",
    "rental_cost_per_bot_day": "currency per bot-day",
    "hit_and_run_share": "share of new infections",
    "hit_and_run_lifetime_hours": "hours (mean)",
    "hit_and_run_burst": "multiplier of the send rate",
    "pop_logins_per_hour": "logins per host-hour",
    "nat_hosts_per_address": "hosts per address",
    "contagion_per_day": "hazard per clean host-day at full infection",
    "stolen_credentials_share": "share of bots",
}

LECTURE = "the lecture (2011), illustrative"
JP_LAW = "Japan's Act on Regulation of Transmission of Specified Electronic Mail, as amended 2008 (maximum fines)"
SOURCES: dict[str, str] = {
    "market.profit_per_sale": f"500 JPY: {LECTURE}",
    "market.success_rate": f"0.01: {LECTURE}; measured ≈ 8e-8 sales per message sent: Kanich et al., "
    "'Spamalytics', ACM CCS 2008",
    "market.funnel.visit_rate": "Kanich et al., 'Spamalytics', ACM CCS 2008 (emails → visits → purchases)",
    "market.funnel.purchase_rate": "Kanich et al., 'Spamalytics', ACM CCS 2008",
    "spammers[].campaign.messages_per_send": f"1,000,000: {LECTURE}",
    "spammers[].campaign.sends_per_day": f"'several a day': {LECTURE}",
    "enforcement.fines.individual": f"up to 1,000,000 JPY: {JP_LAW}",
    "enforcement.fines.corporation": f"up to 30,000,000 JPY: {JP_LAW}",
    "enforcement.reach_abroad": f"≈ 0: {LECTURE}",
    "countermeasures.open_relay_prevention.adoption": "relay only for own networks: RFC 2505 (1999)",
    "countermeasures.op25b.adoption": "recommended with port 587 and SMTP AUTH by JEAG, February 2006",
    "countermeasures.submission_auth.mode_share.smtp_auth": "RFC 4954 (SMTP AUTH; first RFC 2554, 1999), "
    "RFC 6409 (port 587); wide deployment after 2008: the lecture",
    "countermeasures.blacklists.dynamic_ip_listed_share": "policy lists of dynamic addresses, e.g. Spamhaus PBL",
    "defenders.users": "JPY default ≈ 96 million Internet users in Japan, end of 2011: MIC, Communications Usage "
    "Trend Survey 2011; other counts illustrative",
    "defenders.value_of_time_per_hour": "JPY default 2,000: MHLW Monthly Labour Survey around 2011; USD default 25: "
    "Rao & Reiley, J. Econ. Perspectives 26(3), 2012",
    "legitimate_mail.messages_per_day": "set so that spam is 80–90 % of mail (the lecture; MessageLabs/Symantec "
    "2010: ≈ 89–90 %) in scenarios/japan-2011.yaml",
}
"""Where a default or a typical value comes from; fields not listed are modelling choices
that each scenario sets (its header cites its sources)."""


# -- walking the JSON Schema --------------------------------------------------------------------


@dataclass
class Field:
    """One field of the scenario schema, flattened."""

    path: str
    kind: str
    low: float | None
    high: float | None
    default: Any
    required: bool
    description: str
    numeric: bool
    low_open: bool = False
    high_open: bool = False


DISTRIBUTIONS = {"Fixed", "Uniform", "Triangular", "Normal", "LogNormal", "Beta"}


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _alternatives(node: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [a for alt in node[key] for a in _alternatives(alt)]
    return [node]


def _bounds(alts: list[dict[str, Any]]) -> tuple[float | None, float | None, bool, bool]:
    """Low, high, and whether each is excluded, as the JSON Schema states them."""
    for alt in alts:
        if alt.get("type") in ("number", "integer"):
            low = alt.get("minimum", alt.get("exclusiveMinimum"))
            high = alt.get("maximum", alt.get("exclusiveMaximum"))
            return low, high, "exclusiveMinimum" in alt, "exclusiveMaximum" in alt
    return None, None, False, False


def _submodel(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``list[X]``, ``X | None``, ``Annotated[X, ...]``)."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _constraints(obj: Any, out: list[Any]) -> list[Any]:
    """Every ``annotated_types`` bound (Gt, Ge, Lt, Le) in a field's metadata and annotation."""
    from pydantic.fields import FieldInfo

    if isinstance(obj, FieldInfo):
        for item in obj.metadata:
            _constraints(item, out)
        _constraints(obj.annotation, out)
    elif any(hasattr(obj, a) for a in ("gt", "ge", "lt", "le")) and not isinstance(obj, type):
        out.append(obj)
    elif typing.get_origin(obj) is typing.Annotated:
        for item in typing.get_args(obj)[1:]:
            _constraints(item, out)
        _constraints(typing.get_args(obj)[0], out)
    else:
        for arg in typing.get_args(obj):
            _constraints(arg, out)
    return out


def _validation_bounds(path: str) -> list[Any]:
    """Bounds pydantic enforces on ``path`` beyond what the JSON Schema states (e.g. ``ge=0.01``).

    The JSON Schema of a typed parameter carries the type's range; a tighter ``Field(ge=...)``
    on one field is enforced by validation but does not reach the schema, so it is read here.
    """
    from spamsim.scenario.schema import Scenario

    model: Any = Scenario
    parts = path.split(".")
    for i, part in enumerate(parts):
        info = getattr(model, "model_fields", {}).get(part.removesuffix("[]"))
        if info is None:
            return []
        if i == len(parts) - 1:
            return _constraints(info, [])
        model = _submodel(info.annotation)
    return []


def _tighten(field: Field) -> Field:
    for bound in _validation_bounds(field.path):
        for attr, is_low, is_open in (
            ("ge", True, False),
            ("gt", True, True),
            ("le", False, False),
            ("lt", False, True),
        ):
            value = getattr(bound, attr, None)
            if value is None:
                continue
            if is_low and (field.low is None or value > field.low or (value == field.low and is_open)):
                field.low, field.low_open = float(value), is_open
            if not is_low and (field.high is None or value < field.high or (value == field.high and is_open)):
                field.high, field.high_open = float(value), is_open
    return field


def _kind(alts: list[dict[str, Any]], defs: dict[str, Any]) -> tuple[str, bool]:
    """A short description of what a field accepts, and whether it is numeric."""
    words: list[str] = []
    numeric = False
    for alt in alts:
        name = _ref_name(alt)
        kind = alt.get("type")
        if name in DISTRIBUTIONS:
            if "distribution" not in words:
                words.append("distribution")
        elif name is not None:
            words.append("section")
        elif kind in ("number", "integer"):
            words.append("number")
            numeric = True
        elif kind == "object" and "propertyNames" in alt and "schedule" not in words:
            words.append("schedule")
        elif kind == "object":
            words.append("mapping")
        elif kind == "array":
            words.append("list")
        elif kind == "null":
            words.append("null")
        elif "enum" in alt or "const" in alt:
            values = alt.get("enum", [alt.get("const")])
            words.append(" | ".join(f"`{v}`" for v in values))
        elif kind:
            words.append(str(kind))
    return ", ".join(words) or "any", numeric


def schema_fields() -> Iterator[Field]:
    """Every field of the scenario schema, depth first, with dotted paths (lists as ``[]``)."""
    from spamsim.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    defs = schema.get("$defs", {})
    yield from _walk(schema, "", defs, set())


def _walk(model: dict[str, Any], prefix: str, defs: dict[str, Any], seen: set[str]) -> Iterator[Field]:
    required = set(model.get("required", []))
    for name, node in model.get("properties", {}).items():
        path = f"{prefix}{name}"
        alts = _alternatives(node)
        kind, numeric = _kind(alts, defs)
        low, high, low_open, high_open = _bounds(alts)
        for alt in alts:  # a list of sections: its items' kind
            if alt.get("type") == "array" and _ref_name(alt.get("items", {})):
                kind = f"list of {_ref_name(alt['items'])}"
        yield _tighten(
            Field(
                path=path,
                kind=kind,
                low=low,
                high=high,
                default=node.get("default", _MISSING),
                required=name in required,
                description=node.get("description", "") or _described(alts, defs),
                numeric=numeric,
                low_open=low_open,
                high_open=high_open,
            )
        )
        for alt in alts:
            target = _ref_name(alt)
            sub = path
            if alt.get("type") == "array" and _ref_name(alt.get("items", {})):
                target, sub = _ref_name(alt["items"]), f"{path}[]"
            if target and target not in DISTRIBUTIONS and target not in seen:
                yield from _walk(defs[target], f"{sub}.", defs, seen | {target})


def _described(alts: list[dict[str, Any]], defs: dict[str, Any]) -> str:
    for alt in alts:
        name = _ref_name(alt)
        if name and name in defs:
            return str(defs[name].get("description", "")).strip().splitlines()[0]
    return ""


class _Missing:
    pass


_MISSING = _Missing()


def _fmt_number(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e4:
        return str(int(value))  # years (1970) and small counts without a thousands separator
    if float(value).is_integer() and abs(value) < 1e7:
        return f"{int(value):,}"
    return f"{value:g}"


def _fmt_default(field: Field) -> str:
    if field.required:
        return "**required**"
    if isinstance(field.default, _Missing):
        return "(section defaults)"
    if field.default is None:
        return "`null`"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    if isinstance(field.default, int | float):
        return f"`{_fmt_number(field.default)}`"
    if field.default in ({}, []):
        return f"`{json.dumps(field.default)}`"
    return f"`{json.dumps(field.default, ensure_ascii=False)}`"


def _fmt_range(field: Field) -> str:
    if field.low is None and field.high is None:
        return ""
    low = _fmt_number(field.low) if field.low is not None else "−∞"
    high = _fmt_number(field.high) if field.high is not None else "∞"
    return f"{'(' if field.low_open else '['}{low}, {high}{')' if field.high_open else ']'}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _unit(path: str) -> str:
    if path in UNITS:
        return UNITS[path]
    for prefix in ("channels.botnet.", "channels.botnets[]."):
        if path.startswith(prefix) and path[len(prefix) :] in BOTNET_UNITS:
            return BOTNET_UNITS[path[len(prefix) :]]
    if path.startswith("countermeasures.submission_auth.mode_share.") or path.startswith("networks[].submission."):
        return "share of submission servers"
    if path.startswith("countermeasures.") and ".cost." in path:
        return COST_UNITS.get(path.split(".cost.", 1)[1], "")
    return ""


def _anchor(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def scenario_reference() -> str:
    """The page ``reference/scenario.md``."""
    from spamsim.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    defs = schema.get("$defs", {})
    lines = [
        "# Scenario file reference",
        "",
        "Generated at build time from `spamsim.scenario.schema.Scenario.model_json_schema()` — the same",
        "schema `spamsim schema` prints and `spamsim validate` checks. Every field below is a key of the",
        "scenario YAML file; a dotted path names where it sits (`[]`: each item of a list). *Range* is the",
        "valid range of a number (distributions are truncated to it; schedule points must lie in it).",
        "The units of every numeric field, and where typical values come from, are in the",
        "[parameter table of the model reference](../model.md#parameters).",
        "",
        "**number, distribution, schedule.** A numeric field takes a plain number; a distribution",
        "`{dist: fixed | uniform | triangular | normal | lognormal | beta, ...}` drawn once per",
        "replication (see [Distributions](#distributions)); or a schedule `{time: value}` interpolated",
        "linearly in time (days since the start, or calendar years when `horizon.start_year` is set).",
        "",
    ]
    sections: dict[str, list[Field]] = {}
    fields = list(schema_fields())
    parents = {f.path.split(".", 1)[0] for f in fields if "." in f.path}
    for field in fields:
        top = field.path.split(".", 1)[0]
        # Top-level scalars (name, description) share one section; each section gets its own.
        sections.setdefault(top.removesuffix("[]") if top in parents else "top level", []).append(field)
    for top, fields in sections.items():
        lines += [f"## `{top}`" if top != "top level" else "## Top level", ""]
        if fields[0].description and top != "top level":
            lines += [_cell(fields[0].description), ""]
        lines += ["| field | accepts | range | default | description |", "|---|---|---|---|---|"]
        for field in fields:
            lines.append(
                f"| `{field.path}` | {_cell(field.kind)} | {_fmt_range(field)} | {_fmt_default(field)} "
                f"| {_cell(field.description)} |"
            )
        lines.append("")
    lines += ["## Distributions", "", "Any numeric field may be one of these instead of a number.", ""]
    lines += ["| `dist` | fields | description |", "|---|---|---|"]
    for name in sorted(DISTRIBUTIONS):
        node = defs.get(name, {})
        props = node.get("properties", {})
        tag = props.get("dist", {}).get("const", name.lower())
        params = ", ".join(f"`{p}`" for p in props if p != "dist")
        lines.append(f"| `{tag}` | {params} | {_cell(node.get('description', ''))} |")
    lines.append("")
    return "\n".join(lines)


def parameter_table() -> str:
    """Every numeric parameter with unit, range, default and source (for ``model.md``)."""
    lines = ["| parameter | unit | range | default | source / meaning |", "|---|---|---|---|---|"]
    for field in schema_fields():
        if not field.numeric:
            continue
        source = SOURCES.get(field.path, "")
        meaning = _cell(field.description)
        text = f"{_cell(source)}. {meaning}" if source else meaning
        lines.append(
            f"| `{field.path}` | {_cell(_unit(field.path))} | {_fmt_range(field)} | {_fmt_default(field)} | {text} |"
        )
    return "\n".join(lines)


# -- the command line ---------------------------------------------------------------------------

_RICH_MARKUP = re.compile(
    r"\[(?:/?(?:bold|italic|dim|underline|b|i|u|red|green|yellow|blue|magenta|cyan)(?: [a-z]+)*|/)\]"
)


def _plain(text: str | None) -> str:
    """Help text without rich markup (``[bold]ok[/]``)."""
    return _RICH_MARKUP.sub("", text or "").strip()


def cli_commands() -> list[tuple[str, Any]]:
    """``(name, click command)`` of every ``spamsim`` command, in the order the CLI lists them."""
    import typer.main

    from spamsim.cli import app

    group = typer.main.get_command(app)
    return [(name, group.commands[name]) for name in group.commands]  # type: ignore[attr-defined]


def cli_reference() -> str:
    """The page ``reference/cli.md``."""
    import typer.main

    from spamsim.cli import app

    group = typer.main.get_command(app)
    lines = [
        "# Command line reference",
        "",
        "Generated at build time from the command tree of `spamsim.cli` (the same text as",
        "`spamsim COMMAND --help`). A user mistake exits with code 2 and one message; `--debug`",
        "(before the command) shows the traceback of an internal error.",
        "",
        "```text",
        "spamsim [--debug] [--version] COMMAND [ARGS]...",
        "```",
        "",
        _plain(group.help).split("\n\n")[0],
        "",
    ]
    lines += _params_table(group.params, group.context_class(group, info_name="spamsim"))
    for name, command in cli_commands():
        ctx = command.context_class(command, info_name=f"spamsim {name}")
        usage = " ".join(command.collect_usage_pieces(ctx))
        lines += [f"## `spamsim {name}`", "", "```text", f"spamsim {name} {usage}", "```", ""]
        help_text = _plain(command.help)
        for paragraph in help_text.split("\n\n"):
            stripped = paragraph.strip()
            if stripped.startswith("Example"):
                example = stripped.split(":", 1)[1].strip()
                lines += ["Example:", "", "```sh", *[e.strip() for e in example.splitlines()], "```", ""]
            else:
                lines += [" ".join(stripped.split()), ""]
        lines += _params_table(command.params, ctx)
    return "\n".join(lines)


def _params_table(params: list[Any], ctx: Any) -> list[str]:
    """Arguments and options as a table, with the text ``--help`` shows (defaults and ranges included)."""
    rows = []
    for param in params:
        record = param.get_help_record(ctx)
        if record is None or getattr(param, "hidden", False):
            continue
        names, text = record
        rows.append(f"| `{_cell(names)}` | {_cell(_plain(text))} |")
    if not rows:
        return []
    return ["| argument / option | meaning |", "|---|---|", *rows, ""]


# -- hooks --------------------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    """Add ``docs/limits.md`` to the navigation when that page exists."""
    docs_dir = Path(config["docs_dir"])
    nav = config.get("nav") or []
    if (docs_dir / "limits.md").exists() and not any(isinstance(item, dict) and "Known limits" in item for item in nav):
        position = next((i for i, item in enumerate(nav) if isinstance(item, dict) and "Reference" in item), len(nav))
        nav.insert(position, {"Known limits": "limits.md"})
    return config


def on_files(files: Files, config: Any) -> Files:
    """Generate the reference pages and publish the repository's own pages where they live."""
    generated = {
        "reference/cli.md": cli_reference(),
        "reference/scenario.md": scenario_reference(),
    }
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    sources = [ROOT / p for p in INCLUDED] + [p for g in INCLUDED_GLOBS for p in sorted(ROOT.glob(g))]
    for path in sources:
        uri = path.relative_to(ROOT).as_posix()
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def cost_defaults_table() -> str:
    """Each registered countermeasure's default cost (JPY; USD at the fixed rate) and its source, for model.md."""
    from spamsim.countermeasures import REGISTRY
    from spamsim.countermeasures.cost import JPY_PER_USD

    lines = [
        f"| countermeasure | default cost (JPY; USD = JPY / {JPY_PER_USD:g}) | unit | source |",
        "|---|---|---|---|",
    ]
    for cm in REGISTRY:
        default = cm.default_cost
        items = []
        for key, value in default.jpy.items():
            if isinstance(value, dict):
                items += [f"`{key}.{k}: {_fmt_number(v)}`" for k, v in value.items()]
            else:
                items.append(f"`{key}: {_fmt_number(value)}`")
        units = sorted({COST_UNITS.get(i.strip("`").split(":")[0], "") for i in items} - {""})
        lines.append(
            f"| `{cm.key}` | {', '.join(items) or 'none (0)'} | {_cell('; '.join(units))} | {_cell(default.source)} |"
        )
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Fill the parameter table and the table of default costs of the model reference."""
    if PARAMETERS_MARKER in markdown:
        markdown = markdown.replace(PARAMETERS_MARKER, parameter_table())
    if COST_DEFAULTS_MARKER in markdown:
        markdown = markdown.replace(COST_DEFAULTS_MARKER, cost_defaults_table())
    return markdown


__all__ = ["cli_commands", "cost_defaults_table", "parameter_table", "schema_fields"]

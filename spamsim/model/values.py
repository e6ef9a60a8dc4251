"""Per-replication parameter values: a scenario with every distribution drawn.

:func:`draw_values` walks a validated :class:`~spamsim.scenario.Scenario` and returns a
tree of :class:`Values` that mirrors it attribute for attribute. Plain numbers stay Python
floats (numpy broadcasts them); every distribution becomes an array with one draw per
replication, taken from the stream named after the field's dotted path. Adding a field
elsewhere therefore never changes the draws of an existing one.

``assigned`` is the hook of batched exploration (:mod:`spamsim.runner.explore`): a mapping
from a field's stream path (the dotted path with list items keyed by name, e.g.
``spammers.overseas.campaign.messages_per_send``) to an array with one value per
replication, which replaces that field's value. Several worlds then share one block, each
on its own slice of replications. Only fields that accept a distribution may be assigned:
the engine reads every other field as one number for the whole block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from ..scenario.distributions import _Dist
from .streams import Streams


class Values:
    """Attribute access to drawn values; mirrors one scenario model."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Values({', '.join(sorted(self.__dict__))})"


def draw_values(
    model: BaseModel,
    streams: Streams,
    size: int,
    path: str = "",
    assigned: Mapping[str, np.ndarray] | None = None,
) -> Values:
    """Draw every distribution in ``model`` once per replication.

    Parameters
    ----------
    model
        A scenario (or part of one).
    streams
        The block's random streams; each field draws from ``param:<dotted path>``.
    size
        Number of replications in the block.
    path
        Dotted path of ``model`` inside the scenario (for stream names).
    assigned
        Per-replication values (arrays of shape ``(size,)``) by stream path, used instead of
        the scenario's value or draws there (see the module's docstring). A distribution
        that is replaced still draws from its stream, so that every other draw stays as it was.
    """
    fields: dict[str, Any] = {}
    for name in type(model).model_fields:
        fields[name] = _resolve(getattr(model, name), streams, size, f"{path}{name}", assigned)
    return Values(**fields)


def _resolve(value: Any, streams: Streams, size: int, path: str, assigned: Mapping[str, np.ndarray] | None) -> Any:
    if isinstance(value, _Dist):
        drawn = value.draw(streams.fresh(f"param:{path}"), size)
        return drawn if not assigned or path not in assigned else assigned[path]
    if assigned and path in assigned:
        return assigned[path]
    if isinstance(value, BaseModel):
        return draw_values(value, streams, size, f"{path}.", assigned)
    if isinstance(value, list):
        return [_resolve(item, streams, size, f"{path}.{_item_key(item, i)}", assigned) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {k: _resolve(v, streams, size, f"{path}.{k}", assigned) for k, v in value.items()}
    return value


def _item_key(item: Any, index: int) -> str:
    # Items with a name are keyed by it, so reordering spammers keeps their draws.
    name = getattr(item, "name", None)
    return str(name) if isinstance(name, str) else str(index)


def as_array(value: float | np.ndarray, size: int) -> np.ndarray:
    """``value`` as a float array of shape ``(size,)``."""
    return np.broadcast_to(np.asarray(value, dtype=float), (size,))

"""Writing figures to files: PNG, SVG or PDF by extension, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from ..atomic import write_atomic
from .style import SAVE_RC

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
PNG_DPI = 200

_METADATA = {
    # No creation dates: the same figure gives the same file (reproducible outputs).
    "pdf": {"CreationDate": None, "Creator": "spamsim"},
    "svg": {"Date": None, "Creator": "spamsim"},
    "png": {"Software": "spamsim"},
}


def save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` as PNG (200 dpi), SVG or PDF, chosen by the extension.

    The file is written to a temporary file next to ``path`` and renamed into place
    (:func:`spamsim.atomic.write_atomic`), so a reader never sees half a figure. PDFs embed
    TrueType (Type 42) fonts; SVG text is drawn as paths, so it looks the same without the
    fonts; the figure's own theme settings are reapplied while writing. Nothing global is
    changed.

    Parameters
    ----------
    fig
        A figure from one of the :mod:`spamsim.plots` functions (or any matplotlib figure).
    path
        Target file; its extension (``.png``, ``.svg``, ``.pdf``) picks the format.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        For another extension.
    RuntimeError
        If the figure wrote an empty file (the target is then left untouched).
    """
    target = Path(path)
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save {target.name!r}: use one of {', '.join(FORMATS)}")
    style = getattr(fig, "spamsim_style", None)
    rc = dict(style.rc) if style is not None else {}
    rc.update(SAVE_RC)

    def write(tmp: Path) -> None:
        with mpl.rc_context(rc):
            fig.savefig(tmp, format=fmt, dpi=PNG_DPI if fmt == "png" else None, metadata=_METADATA[fmt])
        if tmp.stat().st_size == 0:
            raise RuntimeError(f"matplotlib wrote an empty {fmt.upper()} for {target}")

    return write_atomic(target, write)

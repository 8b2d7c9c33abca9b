"""Running ngspice in batch mode as a subprocess, and catching what it reports.

``ngspice -b -r out.raw net.cir`` runs the netlist's ``.tran`` and writes the
saved vectors to a raw file. ngspice often exits with status 0 after problems
(a singular matrix when the initial conditions are ignored, non-increasing PWL
times, a B-source it could not parse); its messages are scanned here and any
of them raises :class:`aann.errors.SimulationError` with the message and the
netlist line concerned.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...errors import SimulationError
from .raw import RawPlot, read_raw

INSTALL_HINT = ("install it with `apt-get install ngspice` (Debian/Ubuntu; other systems: "
                "https://ngspice.sourceforge.io), or set AANN_NGSPICE to its path")

# Messages of ngspice that mean the result cannot be trusted, even with exit status 0.
PROBLEMS = [
    re.compile(r"singular matrix", re.I),
    re.compile(r"timestep too small", re.I),
    re.compile(r"non-increasing", re.I),
    re.compile(r"not increasing", re.I),
    re.compile(r"^\s*error\b", re.I),
    re.compile(r"\berror on line\b", re.I),
    re.compile(r"simulation interrupted", re.I),
    re.compile(r"circuit not parsed", re.I),
    re.compile(r"aborted", re.I),
    re.compile(r"unknown (?:subckt|device|parameter|model)", re.I),
    re.compile(r"could not find", re.I),
    re.compile(r"no such (?:vector|node)", re.I),
    re.compile(r"too few nodes|unable to find definition", re.I),
]


def find_ngspice(executable: str | None = None) -> str:
    """The path of the ngspice executable, or a :class:`SimulationError` saying how to
    install it."""
    name = executable or os.environ.get("AANN_NGSPICE") or "ngspice"
    path = shutil.which(name)
    if path is None:
        raise SimulationError(f"ngspice ({name!r}) was not found; {INSTALL_HINT}")
    return path


def version(executable: str | None = None) -> str:
    """ngspice's version line, e.g. ``ngspice-39``."""
    exe = find_ngspice(executable)
    try:
        text = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"ngspice-\S+", text)
    return match.group(0) if match else "unknown"


def _netlist_line(netlist: str, message: str) -> str:
    """The netlist line a message is about: by an element or node named in it, or ngspice's echo."""
    lines = netlist.splitlines()
    # "Error on line N or its substitute:\n  <processed line>" -> match the element name.
    names = re.findall(r"(?:check node|node|source|device|instance|element|line \d+[^:]*:)\s+"
                       r"([A-Za-z_][\w.]*)", message, re.I)
    echoed = re.search(r"or its substitute:\s*\n\s*(\S+)", message)
    if echoed:
        names.insert(0, echoed.group(1))
    for name in names:
        key = name.lower().split(".")[-1]
        for k, line in enumerate(lines, start=1):
            tokens = line.lower().split()
            if not tokens or line.startswith(("*", "+")):
                continue
            if tokens[0] == key or (key in tokens[1:] and not tokens[0].startswith(".")):
                return f"netlist line {k}: {line.strip()[:200]}"
    return ""


def check_messages(text: str, netlist: str, path: str = "netlist") -> None:
    """Raise :class:`SimulationError` if ngspice's output ``text`` reports a problem."""
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if any(p.search(line) for p in PROBLEMS):
            context = "\n".join(lines[k:k + 3]).strip()
            where = _netlist_line(netlist, context)
            shown = line.strip()[:300]
            raise SimulationError(
                f"ngspice reported a problem in {path}: {shown}"
                + (f" ({where})" if where else ""))


def run_ngspice(netlist: str, workdir=None, name: str = "net", timeout: float | None = 3600,
                executable: str | None = None, keep: bool = False) -> list[RawPlot]:
    """Write ``netlist`` to ``workdir/name.cir``, run ngspice in batch mode, read ``name.raw``.

    Raises :class:`SimulationError` (one line) when ngspice is missing, fails,
    runs past ``timeout`` seconds, or reports a problem. With ``workdir = None`` a
    temporary directory is used and removed (unless ``keep``, or the run failed:
    then the netlist and ngspice's messages, ``name.log``, stay for reading and
    the message names them).
    """
    exe = find_ngspice(executable)
    tmp = None
    if workdir is None:
        tmp = tempfile.mkdtemp(prefix="aann-ngspice-")
        workdir = tmp
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cir, raw, log = (workdir / f"{name}{ext}" for ext in (".cir", ".raw", ".log"))
    cir.write_text(netlist)
    raw.unlink(missing_ok=True)
    failed = True
    try:
        try:
            proc = subprocess.run([exe, "-b", "-r", str(raw), str(cir)], cwd=workdir,
                                  capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, errors="replace")
        except subprocess.TimeoutExpired:
            raise SimulationError(
                f"ngspice ran past the timeout of {timeout:g} s on {cir}; raise the timeout "
                "or loosen the tolerances (fewer steps_per_row, larger reltol)") from None
        except OSError as e:
            raise SimulationError(f"cannot run ngspice ({exe}): {e}; {INSTALL_HINT}") from None
        output = proc.stderr + "\n" + proc.stdout
        try:
            check_messages(output, netlist, str(cir))
            if proc.returncode != 0:
                last = output.strip().splitlines()[-1:] or [""]
                raise SimulationError(f"ngspice exited with status {proc.returncode} on {cir}: "
                                      f"{last[0][:300]}")
        except SimulationError as e:
            log.write_text(output)
            raise SimulationError(f"{e}; its messages are in {log}") from None
        plots = read_raw(raw)
        failed = False
        return plots
    finally:
        if tmp is not None and not keep and not failed:
            shutil.rmtree(tmp, ignore_errors=True)

"""Engines: objects that run a :class:`aann.prepare.Prepared` and return a
:class:`aann.engines.base.Run`.

``native``: :class:`aann.engines.native.Native` (JAX + diffrax).
``ngspice``: :class:`aann.engines.spice.Ngspice` (the netlist in ngspice).
``ngspice-cells``: :class:`aann.cells.engine.Cells` (the network of SkyWater 130 nm
cells in ngspice; ``aann train --engine ngspice --cells sky130``).
A name is looked up here; the engine modules are imported only when used.
"""

from __future__ import annotations

import importlib

from ..errors import ValidationError
from .base import Engine, EngineInfo, EpochRecords, Run

ENGINES = {"native": ("aann.engines.native", "Native"),
           "ngspice": ("aann.engines.spice", "Ngspice"),
           "ngspice-cells": ("aann.cells.engine", "Cells")}

__all__ = ["ENGINES", "Engine", "EngineInfo", "EpochRecords", "Run", "engine_class",
           "get_engine"]


def engine_class(name: str) -> type[Engine]:
    """The engine class registered as ``name``."""
    if not isinstance(name, str) or name not in ENGINES:
        raise ValidationError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)} "
                              "or an engine object such as aann.Native()")
    module, cls = ENGINES[name]
    return getattr(importlib.import_module(module), cls)


def get_engine(engine: str | Engine = "native", **options) -> Engine:
    """An engine object: ``engine`` itself, or the one named, built with ``options``.

    An option the engine does not have is a :class:`ValidationError` naming it;
    options given beside an engine object are refused (set them on the object).
    """
    if isinstance(engine, Engine):
        if options:
            raise ValidationError(
                f"options {', '.join(sorted(options))} given beside the engine object "
                f"{engine!r}; set them on the object instead")
        return engine
    return engine_class(engine).from_options(**options)

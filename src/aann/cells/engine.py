"""The co-simulation as an engine: ``aann train --engine ngspice --cells sky130``.

Each network of the batch is the network of SkyWater 130 nm cells that
:func:`aann.cells.cosim.cosim_netlist` writes as ``[cells]`` says (the glue, what holds
a weight, the multiplier cell; :func:`aann.cells.cosim.cell_arguments`), run in ngspice
with the PDK's models, one network after the other. The weights are read at the end
of every epoch; the metrics of an epoch (:mod:`aann.metrics`) read the outputs the
transistor network itself gave at the end of each of its rows, while it learned (the
native engines evaluate the network's function at the epoch's weights, frozen, which
the cells have no law for): ``EngineInfo.settings["outputs"]`` says so in every result.
What the cells cannot report is left out: no waveforms, no peak charging current (NaN),
no step errors, and no metric of the held-out rows (``[data] test_fraction``): the
transistors see only the training rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import jax
import numpy as np

from .. import metrics as _metrics
from ..engines.base import Engine, EngineInfo, EpochRecords, Run
from ..errors import ValidationError
from ..progress import progress_bar
from .cosim import EDGE_FRACTION


@dataclass(frozen=True)
class Cells(Engine):
    """ngspice on the transistor-level cells (``corner``: a SkyWater 130 nm corner)."""

    name: ClassVar[str] = "ngspice-cells"
    corner: str = "tt"
    timeout: float = 86400.0  # s per network (examples/cells_xor.toml: about an hour)
    pdk_sample: int | None = None  # the corner's mismatch models, Monte Carlo sample k

    def check(self, prepared, *, checkpoint=None, resume: bool = False) -> None:
        super().check(prepared, checkpoint=checkpoint, resume=resume)
        from .cosim import check_runnable
        from .models import check_corner, models_dir

        check_corner(self.corner)
        check_runnable(prepared.config)
        k = self.pdk_sample
        if k is not None and (isinstance(k, bool) or not isinstance(k, int)
                              or not 0 <= k < 2**31 - 2):  # ngspice's seed k + 1: an int
            raise ValidationError(f"--pdk-sample {k!r}: the PDK's Monte Carlo sample is a "
                                  "whole number >= 0 and < 2**31 - 2")
        if prepared.samples is not None:
            raise ValidationError("--cells sky130 runs the cells as the PDK draws them; drop "
                                  "[mismatch] (aann characterize --mismatch gives its sigmas)")
        models_dir()  # a missing install says how to install it

    def run_rows(self, prepared, *, waveforms, progress, checkpoint, resume) -> Run:
        if waveforms:
            raise ValidationError("--cells sky130 records the weights and outputs per epoch, "
                                  "not waveforms; drop --waveforms")
        from ..batch import circuit_at
        from .cosim import cell_arguments, run_cosim

        cfg, schedule = prepared.config, prepared.schedule
        t, c = cfg.training, cfg.constants
        X, Y = schedule.dataset.X, schedule.dataset.Y
        runs = []
        with progress_bar(progress, prepared.n_networks, "co-simulating", "networks") as update:
            for b in range(prepared.n_networks):
                runs.append(run_cosim(cfg.network.sizes, [w[b] for w in prepared.W0], X, Y,
                                      t_row=t.t_row, epochs=t.epochs, C=c.C, Vbias=c.Vbias,
                                      corner=self.corner, timeout=self.timeout,
                                      pdk_sample=self.pdk_sample, readout=False,
                                      rule=circuit_at(prepared.circuit, prepared.axes, b).rule,
                                      **cell_arguments(cfg)))
                update(b + 1)
        W_epoch = tuple(np.stack([r["W_epoch"][l] for r in runs])
                        for l in range(len(cfg.network.sizes) - 1))
        Vout = np.stack([r["Vout_rows"] for r in runs])  # (B, epochs, rows, outputs)
        which = _metrics.names(dataclasses.replace(schedule.dataset, test=None))
        rows = _metrics.Rows.of(schedule.dataset)
        evaluate = jax.jit(jax.vmap(jax.vmap(
            lambda W, out: _metrics.evaluate_outputs(W, out, rows, which))))
        metrics = {k: np.asarray(v) for k, v in evaluate(W_epoch, Vout).items()}
        W_min, W_max = EpochRecords.extremes(W_epoch)
        final = tuple(w[:, -1] for w in W_epoch)
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        from ..engines.spice.ngspice import version

        try:
            pdk = f"sky130 {package_version('sky130')}"
        except PackageNotFoundError:  # models given by AANN_SKY130_MODELS
            pdk = "sky130"
        return Run(metrics=metrics, W_epoch=W_epoch, W_min=W_min, W_max=W_max, W_final=final,
                   peak_current=tuple(np.full(w.shape, np.nan) for w in final),
                   solver_ok=np.ones(prepared.n_networks, bool), waveforms=None,
                   step_error=None,
                   info=EngineInfo(self.name, f"{version()}, {pdk} {self.corner}",
                                   {"corner": self.corner, "timeout": self.timeout,
                                    **({} if self.pdk_sample is None else
                                       {"pdk_sample": self.pdk_sample}),
                                    "outputs": "measured at the end of each row, learning"},
                                   t.t_row * EDGE_FRACTION,
                                   time_points=[r["points"] for r in runs]))

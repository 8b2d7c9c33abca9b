"""What every engine is and returns.

An engine is an object with its own typed options (``aann.Native(solver=...)``,
``aann.Ngspice(workers=2, reltol=1e-9)``) that runs a
:class:`aann.prepare.Prepared` and returns a :class:`Run`: the same arrays, with
the same meaning, from every engine. ``aann.train`` builds :class:`aann.Results`
from a :class:`Run` one way for all engines. An engine imports nothing above
:mod:`aann.prepare` (tested).
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numpy as np

from ..errors import ValidationError


@dataclass(frozen=True)
class EngineInfo:
    """How a run was simulated.

    ``settings``: the engine's options as used (native: the solver, its steps
    resolved; ngspice: the ``.options``/``.tran`` settings, workers, timeout).
    ``t_edge``: the rise/fall time of the row edges actually applied (s).
    ``process_seconds`` and ``time_points``: per network, the wall time of its
    simulator process and the time points it took (ngspice; None for native,
    which steps the whole batch at once).
    """

    name: str
    version: str
    settings: dict
    t_edge: float = 0.0
    process_seconds: list | None = None
    time_points: list | None = None


class EpochRecords(NamedTuple):
    """What is recorded per epoch (network axis first): the chunk output of an engine.

    ``W_epoch`` is None when only the MSE is recorded (``training.record = "mse"``);
    the extremes of the weights are always kept (the divergence checks read them).
    """

    metrics: dict  # name -> (B, epochs): every registered metric after each epoch
    # (aann.metrics; "mse" in V^2)
    W_min: np.ndarray  # (B, epochs) smallest weight after each epoch, V (NaN if any is)
    W_max: np.ndarray  # (B, epochs) largest weight after each epoch, V (NaN if any is)
    step_error: np.ndarray  # (B, epochs) largest fixed-step error estimate, V (0: none)
    W_epoch: tuple | None = None  # per layer (B, epochs, n_out, n_in + 1), V

    @property
    def mse(self) -> np.ndarray:
        return self.metrics["mse"]

    @staticmethod
    def concat(parts: list[EpochRecords]) -> EpochRecords:
        def join(arrays):
            return np.concatenate(list(arrays), axis=1)

        W = None if parts[0].W_epoch is None else tuple(
            join(layer) for layer in zip(*(p.W_epoch for p in parts)))
        metrics = {name: join(p.metrics[name] for p in parts) for name in parts[0].metrics}
        return EpochRecords(metrics, *(join(getattr(p, name) for p in parts)
                                       for name in ("W_min", "W_max", "step_error")), W)

    @staticmethod
    def extremes(W_epoch) -> tuple[np.ndarray, np.ndarray]:
        """``(W_min, W_max)`` (B, epochs) of per-layer weights (B, epochs, ...), NaN-propagating."""
        flat = np.concatenate([np.reshape(w, (*np.shape(w)[:2], -1)) for w in W_epoch], axis=2)
        return flat.min(axis=2), flat.max(axis=2)


@dataclass(frozen=True)
class Run:
    """The raw result of an engine (leading axis: network in the batch)."""

    metrics: dict  # name -> (B, epochs): every registered metric (aann.metrics) after
    # each epoch; (B, 0) under a PWL stimulus
    W_epoch: tuple | None  # per layer (B, epochs, n_out, n_in + 1): weights after each
    # epoch, V (a PWL stimulus: one "epoch", its end); None: not recorded
    W_min: np.ndarray  # (B, epochs) smallest weight after each epoch, V
    W_max: np.ndarray  # (B, epochs) largest weight after each epoch, V
    W_final: tuple  # per layer (B, n_out, n_in + 1), V
    peak_current: tuple  # per layer (B, n_out, n_in + 1): max |Icharged| over the run, A
    solver_ok: np.ndarray  # (B,) every segment solved without a solver failure
    waveforms: dict | None  # time (T,), Vin/Vtarget/Vout (B, T, n), Vteach (B, T)
    step_error: np.ndarray | None  # (B, epochs) largest fixed-step error estimate, V;
    # None: the engine controls its own error (ngspice)
    info: EngineInfo = field(default=None)
    charge: tuple | None = None  # per layer (B, n_out, n_in + 1): integral |Icharged| dt
    # over the run, C (aann.energy); None: the engine does not measure it
    supply_power: np.ndarray | None = None  # (B,) the static supply power the engine
    # measured itself, W (ngspice: -Vdd i(Vdd)); None: not measured

    @property
    def mse(self) -> np.ndarray:
        """(B, epochs) the MSE after each epoch, V^2."""
        return self.metrics["mse"]


class Engine(abc.ABC):
    """An engine: typed options, and :meth:`run`.

    Subclasses set ``name``, implement :meth:`run_rows` and, when they can apply
    arbitrary PWL sources (``applies_stimulus``), ``run_waveform(prepared, *,
    progress)``; ``resumable`` engines accept a ``checkpoint`` file.
    """

    name: ClassVar[str]
    resumable: ClassVar[bool] = False
    batches_circuits: ClassVar[bool] = False  # runs a circuit batched over networks
    applies_stimulus: ClassVar[bool] = False  # has run_waveform

    def run(self, prepared, *, waveforms: bool = False, progress: bool = False,
            checkpoint=None, resume: bool = False) -> Run:
        """Simulate ``prepared``: its data rows, or its PWL stimulus."""
        self.check(prepared, checkpoint=checkpoint, resume=resume)
        if prepared.stimulus is not None:
            return self.run_waveform(prepared, progress=progress)
        return self.run_rows(prepared, waveforms=waveforms, progress=progress,
                             checkpoint=checkpoint, resume=resume)

    def check(self, prepared, *, checkpoint=None, resume: bool = False) -> None:
        """Raise :class:`ValidationError` (or :class:`SimulationError` for a missing
        tool) unless this engine can run ``prepared`` so; nothing is simulated."""
        if (checkpoint is not None or resume) and not self.resumable:
            raise ValidationError(f"the {self.name} engine cannot checkpoint or resume a run; "
                                  "use engine='native' or run without a checkpoint")
        if prepared.circuit_batched and not self.batches_circuits:
            raise ValidationError(f"the {self.name} engine cannot run a batched circuit "
                                  "(circuit_batched=True); use engine='native'")
        if prepared.stimulus is not None:
            if checkpoint is not None or resume:
                raise ValidationError("a run under a PWL stimulus cannot be checkpointed")
            if not self.applies_stimulus:
                raise ValidationError(f"the {self.name} engine cannot apply a PWL stimulus; "
                                      "use engine='native'")

    @classmethod
    def from_options(cls, **options) -> Engine:
        """The engine with ``options``; one it does not have is a :class:`ValidationError`."""
        check_options(cls.name, options, [f.name for f in dataclasses.fields(cls)])
        return cls(**options)

    @abc.abstractmethod
    def run_rows(self, prepared, *, waveforms: bool, progress: bool, checkpoint,
                 resume: bool) -> Run:
        """Train through the data-row schedule ``prepared.schedule``."""


def check_options(engine: str, given: dict, allowed) -> None:
    """An option the engine does not have is a :class:`ValidationError` naming it."""
    for key in given:
        if key not in allowed:
            raise ValidationError(f"the {engine} engine has no option {key!r}; its options: "
                                  + (", ".join(sorted(allowed)) or "none"))

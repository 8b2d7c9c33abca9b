"""Typed errors a user can cause. The CLI prints their message and exits 2."""


class AannError(Exception):
    """Base of every error whose message tells the user what to fix."""


class ValidationError(AannError, ValueError):
    """A description (network, blocks, constants, stimulus) is invalid."""


class SimulationError(AannError, RuntimeError):
    """A simulation could not be carried out (e.g. an external engine failed)."""


def short_repr(value, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for quoting a user's input in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."

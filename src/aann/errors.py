"""Typed errors a user can cause. The CLI prints their message and exits 2."""


class AannError(Exception):
    """Base of every error whose message tells the user what to fix."""


class ValidationError(AannError, ValueError):
    """A description (network, blocks, constants, stimulus) is invalid."""


class SimulationError(AannError, RuntimeError):
    """A simulation could not be carried out (e.g. an external engine failed)."""

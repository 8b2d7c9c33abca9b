"""A griffe extension for the API reference: the docstrings use reStructuredText roles
(``:func:`train```, ``:class:`aann.Results```) and double back-quotes; shown here as
code (Markdown single back-quotes)."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):`~?([^`]+)`")
LITERAL = re.compile(r"``([^`]+)``")


class RstRoles(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            text = ROLE.sub(r"`\1`", obj.docstring.value)
            obj.docstring.value = LITERAL.sub(r"`\1`", text)

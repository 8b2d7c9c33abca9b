"""Reproductions of the paper's section 4: one thin module per experiment.

``fig8`` (E1, Fig. 8), ``xor`` (E2, Figs. 9-11), ``parasitic`` (E3, Figs. 12-13),
``speed`` (E4, Tabs. 1-2); ``report`` merges their sections into ``report.md``.
Each module's ``run(out, ...)`` writes its figures (PNG and SVG), its CSV and
its report section, and returns the measured facts as a dict. They use only
the public API (``aann.train``, ``aann.Config``, ``aann.plots``, ``aann.digital``).
The command line is ``aann reproduce fig8|xor|parasitic|speed|all``.
"""

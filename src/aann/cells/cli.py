"""``aann characterize``: checks its arguments, runs the sweeps with a progress bar,
writes the outputs."""

from __future__ import annotations

import typer


def characterize_command(cell: str, *, kind: str | None, corner: str, temp: float,
                         points: int | None, out: str, progress: bool = True) -> None:
    """Characterize ``cell`` into folder ``out``; every input is checked first."""
    from ..io import check_path_text, ensure_writable_dir
    from ..progress import progress_bar
    from .characterization import characterize, resolve_cell
    from .models import check_corner, models_dir
    from .outputs import summary_line, write_outputs

    resolved = resolve_cell(cell, kind)
    check_corner(corner)
    if points is not None and not 3 <= points <= 201:
        from ..errors import ValidationError

        raise ValidationError(f"--points {points} must be from 3 to 201")
    models_dir()
    out = check_path_text(out, "output directory")
    ensure_writable_dir(out)
    with progress_bar(progress, total=2, label="characterize",
                      description=resolved.name) as bar:
        ch = characterize(resolved, corner, temp, points,
                          update=lambda k, d: bar(k, f"{resolved.name}: {d}"))
    write_outputs(ch, out)
    typer.echo(summary_line(ch))
    typer.echo(f"wrote {out}/ (fit.toml, sweep.csv, fit.png, summary.json)")

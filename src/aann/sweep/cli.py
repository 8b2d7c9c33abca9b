"""``aann sweep``: its three forms, dispatched from one command (the first argument is
a sweep file, or ``export`` / ``report`` followed by the sweep's folder)."""

from __future__ import annotations

import typer

from ..errors import ValidationError

USAGE = ("aann sweep SWEEP.toml [--out DIR] [--resume] [--workers N | --scheduler ADDR] "
         "[--batch N] | aann sweep export DIR --csv FILE | aann sweep report DIR [--by KEY]")


def sweep_command(target: str, rest: list[str], *, out: str | None, resume: bool,
                  workers: int | None, scheduler: str | None, batch: int | None,
                  csv: str | None, by: list[str] | None) -> None:
    """Run a sweep file, or export / report the sweep in a folder."""
    from pathlib import Path

    rest = list(rest or [])
    if target in ("export", "report"):
        if len(rest) != 1:
            raise ValidationError(f"aann sweep {target} takes one folder (the sweep's --out); "
                                  f"usage: {USAGE}")
        extra = {"--out": out, "--resume": resume or None, "--workers": workers,
                 "--scheduler": scheduler, "--batch": batch,
                 "--by" if target == "export" else "--csv": by if target == "export" else csv}
        given = [k for k, v in extra.items() if v]
        if given:
            raise ValidationError(f"aann sweep {target} does not take {given[0]}; usage: "
                                  f"{USAGE}")
        folder = rest[0]
        if target == "export":
            if not csv:
                raise ValidationError("aann sweep export needs --csv FILE")
            from .report import export_csv

            written, total = export_csv(folder, csv)
            typer.echo(f"wrote {csv}: {written} run(s)"
                       + (f" ({total - written} of {total} not run yet)"
                          if written < total else ""))
        else:
            from .report import write_report

            path = write_report(folder, by)
            typer.echo(f"wrote {path} (figures in {Path(folder) / 'figures'}/)")
        return
    if rest:
        raise ValidationError(f"unexpected argument {rest[0]!r}; usage: {USAGE}")
    if csv or by:
        raise ValidationError(f"{'--csv' if csv else '--by'} belongs to aann sweep "
                              f"{'export' if csv else 'report'} DIR; usage: {USAGE}")
    from .plan import load_sweep
    from .runner import run_sweep
    from .store import Store

    sweep = load_sweep(target)
    out = out or "aann-sweep"
    try:
        run_sweep(sweep, out, resume=resume, workers=workers, scheduler=scheduler,
                  batch=batch, progress=True, echo=typer.echo)
    except KeyboardInterrupt:
        hint = ""
        try:
            store = Store.existing(out)
            done = store.count()
            store.close()
            hint = (f"; {done} of {sweep.n_runs} runs are stored in {out}: continue with "
                    "the same command and --resume")
        except Exception:  # only a hint: the store may be locked or still empty
            pass
        typer.echo(f"interrupted{hint}", err=True)
        raise typer.Exit(130) from None

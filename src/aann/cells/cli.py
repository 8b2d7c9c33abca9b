"""``aann characterize``: checks its arguments, runs the sweeps with a progress bar,
writes the outputs."""

from __future__ import annotations

import typer


def characterize_command(cell: str, *, kind: str | None, corner: str, temp: float,
                         points: int | None, out: str, mismatch: int = 0,
                         progress: bool = True, bias: str | None = None,
                         chopper: str | None = None) -> None:
    """Characterize ``cell`` into folder ``out`` (and ``mismatch`` Monte Carlo samples of
    the mismatch models; ``bias``: bias scales, comma-separated, for a bias sweep;
    ``chopper``: a frequency, a multiplier's inputs chopped at it); every input is
    checked first."""
    from ..io import check_path_text, ensure_writable_dir
    from ..progress import progress_bar
    from .characterization import characterize, resolve_cell
    from .models import check_corner, models_dir
    from .outputs import summary_line, write_outputs

    if cell == "switch":  # no block law: its own measurement (aann.cells.switch)
        from .switch import switch_command

        if chopper is not None:
            from ..errors import ValidationError

            raise ValidationError("--chopper: the switch has no product to chop; give a "
                                  "multiplier cell")
        return switch_command(kind=kind, corner=corner, temp=temp, points=points, out=out,
                              mismatch=mismatch, bias=bias, progress=progress)
    resolved = resolve_cell(cell, kind)
    check_corner(corner)
    if points is not None and not 3 <= points <= 201:
        from ..errors import ValidationError

        raise ValidationError(f"--points {points} must be from 3 to 201")
    if not 0 <= mismatch <= 1000 or mismatch == 1:
        from ..errors import ValidationError

        raise ValidationError(f"--mismatch {mismatch}: give 0 (none) or 2 to 1000 samples")
    biases = None if bias is None else parse_biases(bias)
    if biases is not None:
        from .supply import bias_length

        bias_length(resolved)  # a cell without a bias resistor: refused before any run
    f_chop = None
    if chopper is not None:
        from ..units import parse_quantity
        from .bandwidth import check_chopper

        f_chop = parse_quantity(chopper, "--chopper", "Hz")
        check_chopper(resolved, f_chop)
    models_dir()
    out = check_path_text(out, "output directory")
    ensure_writable_dir(out)
    with progress_bar(progress, total=2, label="characterize",
                      description=resolved.name) as bar:
        ch = characterize(resolved, corner, temp, points, biases=biases, chopper=f_chop,
                          update=lambda k, d: bar(k, f"{resolved.name}: {d}"))
    write_outputs(ch, out)
    typer.echo(summary_line(ch))
    written = "fit.toml, sweep.csv, fit.png, summary.json" + (", bias.csv" if biases else "")
    if mismatch:
        from ..io import atomic_write
        from .mismatch import UNITS, mismatch_csv, mismatch_toml, monte_carlo, quantity

        with progress_bar(progress, total=mismatch, label="mismatch",
                          description=resolved.name) as bar:
            mc = monte_carlo(resolved, mismatch, corner, temp, points,
                             update=lambda k, d: bar(k, d))
        atomic_write(out / "mismatch.toml", mismatch_toml(mc, resolved.name, temp))
        atomic_write(out / "mismatch.csv", mismatch_csv(mc))
        typer.echo(f"mismatch over {mismatch} samples ({corner}_mm), sigma: " + ", ".join(
            f"{k} {v * 100:.3g} %" if rel else f"{k} {quantity(v, UNITS.get(k, 'V'))}"
            for k, (v, rel) in mc.sigmas().items()))
        written += ", mismatch.toml, mismatch.csv"
    typer.echo(f"wrote {out}/ ({written})")


def parse_biases(text: str) -> list[float]:
    """``"0.25,0.5,1,2"`` -> bias scales (each > 0, at most 20), or a ValidationError."""
    import math

    from ..errors import ValidationError

    try:
        values = [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        values = []
    if not values or len(values) > 20 or not all(math.isfinite(v) and v > 0 for v in values):
        raise ValidationError(f"--bias {text!r}: give bias scales > 0 separated by commas, "
                              "at most 20, e.g. 0.25,0.5,1,2 (1: the cell as drawn)")
    return values


def cosim_netlist_command(cfg, cells: str, *, seed: int | None, sample: int | None,
                          output: str) -> None:
    """``aann netlist --cells sky130``: the network of transistor cells, written to
    ``output``."""
    from ..errors import ValidationError
    from ..io import atomic_write, check_output_file
    from .cosim import network_cosim

    if cells != "sky130":
        raise ValidationError(f"--cells {cells!r} is not known; use --cells sky130")
    if sample is not None:
        raise ValidationError("--sample belongs to the behavioural netlist; the cells' "
                              "mismatch comes from the PDK (aann characterize --mismatch)")
    text, info = network_cosim(cfg, seed)
    output = check_output_file(output)
    atomic_write(output, text)
    typer.echo(f"wrote {output}: {cfg.network.topology} of SkyWater 130 nm cells "
               f"({info['corner']}), initial weights of seed {info['seed']}, transresistances "
               f"1/Km = {1 / info['Km']:.4g} Ohm; run it in a folder holding the PDK's spinit "
               f"as .spiceinit: ngspice -b -r out.raw {output}")

"""A sweep's store as a CSV table (``aann sweep export``) and a Markdown report with
figures (``aann sweep report``)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import numpy as np

from ..errors import ValidationError
from ..io import atomic_write, check_output_file, ensure_writable_dir
from .plan import given_text, goal_fields, goal_text
from .store import Store


def export_csv(out_dir, csv_path) -> tuple[int, int]:
    """Write ``csv_path``: one row per stored run, columns ``run``, every swept key (its
    value as the sweep file gives it), ``seed``, ``final_<metric>`` for every metric
    the store keeps (``final_mse`` first: V^2, exact; ``nan`` when not finite) and
    ``learned`` (1: the final value reaches the goal, by default MSE below 0.01, and
    the run did not diverge), sorted by ``run``. Returns (rows written, runs in the
    sweep)."""
    store = Store.existing(out_dir)
    try:
        meta, runs, names = store.meta(), store.runs(), store.metric_names()
    finally:
        store.close()
    keys = json.loads(meta["keys"])
    path = check_output_file(csv_path)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", *keys, "seed", *(f"final_{n}" for n in names), "learned"])
    for r in runs:
        w.writerow([r["run"], *(given_text(r["given"][k]) for k in keys), r["seed"],
                    *(repr(float(r["finals"][n])) for n in names), int(r["learned"])])
    atomic_write(path, buf.getvalue())
    return len(runs), int(meta["runs"])


def _order(runs: list, key: str) -> tuple[list, bool]:
    """The distinct values of ``key`` (as written), ordered by their SI value when all are
    numbers (then True), else as they first appear."""
    seen = {}
    for r in runs:
        text = given_text(r["given"][key])
        seen.setdefault(text, r["si"][key])
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen.values())
    texts = sorted(seen, key=lambda t: seen[t]) if numeric else list(seen)
    return [(t, seen[t]) for t in texts], numeric


def _cell(runs: list) -> dict:
    """Yield and median final MSE of some runs (a diverged run's NaN counts as inf)."""
    mse = np.array([r["final_mse"] for r in runs], float)
    mse[np.isnan(mse)] = np.inf
    learned = sum(r["learned"] for r in runs)
    return {"n": len(runs), "learned": learned, "yield": learned / len(runs) if runs else
            math.nan, "median": float(np.median(mse)) if len(mse) else math.nan}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _fmt(x: float) -> str:
    return "-" if math.isnan(x) else ("inf" if math.isinf(x) else f"{x:.3g}")


def write_report(out_dir, by: list[str] | None = None) -> Path:
    """Write ``out_dir/report.md`` and its figures (``out_dir/figures/``): the yield and
    the median final MSE over one swept key (a line plot) or two (heat maps), for each
    selection in ``by`` (a key, or two joined by a comma); by default every key alone
    and the first two together. Returns the Markdown file's path."""
    store = Store.existing(out_dir)
    try:
        meta, runs = store.meta(), store.runs()
    finally:
        store.close()
    keys, total = json.loads(meta["keys"]), int(meta["runs"])
    if not runs:
        raise ValidationError(f"{out_dir} holds no finished run yet; run the sweep first")
    selections = []
    for item in by or []:
        chosen = [k.strip() for k in item.split(",")]
        for k in chosen:
            if k not in keys:
                raise ValidationError(f"--by {item!r}: {k!r} is not a swept key; swept: "
                                      + ", ".join(keys))
        if not 1 <= len(chosen) <= 2 or len(set(chosen)) != len(chosen):
            raise ValidationError(f"--by {item!r} must name one swept key or two different "
                                  "ones joined by a comma")
        selections.append(chosen)
    if not selections:
        selections = [[k] for k in keys] + ([keys[:2]] if len(keys) >= 2 else [])
    out = ensure_writable_dir(out_dir)
    figures = ensure_writable_dir(out / "figures")
    learned = sum(r["learned"] for r in runs)
    lines = ["# Sweep report", "",
             f"From {meta['source']} (digest {meta['digest'][:12]}): {len(runs)} of {total} "
             f"runs done, {learned} learned. Swept: " + ", ".join(f"`{k}`" for k in keys) + ".",
             "",
             f"A run has *learned* when its {goal_text(meta.get('goal'))} and it did not "
             "diverge; the yield is the fraction of runs that learned. Each figure pools the "
             "runs of every seed and of every value of the keys not shown; a diverged run "
             "counts as MSE = inf in the median.", ""]
    for chosen in selections:
        if len(chosen) == 1:
            lines += _one_key(runs, chosen[0], figures, goal_fields(meta.get("goal")))
        else:
            lines += _two_keys(runs, chosen[0], chosen[1], figures)
    path = out / "report.md"
    atomic_write(path, "\n".join(lines) + "\n")
    return path


def _one_key(runs, key, figures: Path, goal) -> list[str]:
    import matplotlib.pyplot as plt

    from .. import plots

    values, numeric = _order(runs, key)
    cells = [_cell([r for r in runs if given_text(r["given"][key]) == t]) for t, _ in values]
    x = [v for _, v in values] if numeric else list(range(len(values)))
    with plt.rc_context(plots.STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True)
        a1.plot(x, [c["yield"] for c in cells], marker="o")
        a1.set_ylim(-0.03, 1.03)
        a1.set_ylabel("yield")
        a2.plot(x, [c["median"] for c in cells], marker="o")
        if all(0 < c["median"] < math.inf for c in cells):
            a2.set_yscale("log")
        if goal["metric"] == "mse":  # the goal, on the axis of the final MSE
            a2.axhline(goal["value"], color="k", lw=0.6, ls=":")
        a2.set_ylabel("median final MSE [V$^2$]")
        for ax in (a1, a2):
            ax.set_xlabel(key)
            if numeric and len(x) > 1 and min(x) > 0 and max(x) / min(x) >= 10:
                ax.set_xscale("log")
            if not numeric or len(x) <= 12:  # the values as the sweep file writes them
                ax.set_xticks(x, [t for t, _ in values], rotation=30, fontsize=7)
                ax.minorticks_off()
        name = f"sweep-{_slug(key)}.png"
        plots.save(fig, figures / name)
    rows = [f"| {t} | {c['n']} | {c['learned']} | {_fmt(c['yield'])} | {_fmt(c['median'])} |"
            for (t, _), c in zip(values, cells)]
    return [f"## `{key}`", "", f"![yield and median final MSE against {key}](figures/{name})",
            "", f"| {key} | runs | learned | yield | median final MSE [V^2] |",
            "| --- | --- | --- | --- | --- |", *rows, ""]


def _two_keys(runs, kx, ky, figures: Path) -> list[str]:
    import matplotlib.pyplot as plt

    from .. import plots

    xs, _ = _order(runs, kx)
    ys, _ = _order(runs, ky)
    grid = {}
    for r in runs:
        grid.setdefault((given_text(r["given"][kx]), given_text(r["given"][ky])), []).append(r)
    cells = [[_cell(grid.get((tx, ty), [])) for tx, _ in xs] for ty, _ in ys]
    yld = np.array([[c["yield"] for c in row] for row in cells], float)
    med = np.array([[c["median"] for c in row] for row in cells], float)
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
        shown = np.log10(np.clip(med, 1e-300, 1e300))
        for ax, data, title, cmap, text in (
                (axes[0], yld, "yield", "RdYlGn", yld),
                (axes[1], shown, "log10 median final MSE [V$^2$]", "viridis_r", med)):
            ax.grid(False)
            im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, aspect="auto", origin="lower",
                           **({"vmin": 0, "vmax": 1} if title == "yield" else {}))
            ax.set_xticks(range(len(xs)), [t for t, _ in xs], rotation=30, fontsize=7)
            ax.set_yticks(range(len(ys)), [t for t, _ in ys], fontsize=7)
            ax.set_xlabel(kx)
            ax.set_ylabel(ky)
            ax.set_title(title, fontsize=8)
            fig.colorbar(im, ax=ax, shrink=0.8)
            if len(xs) * len(ys) <= 400:
                for i in range(len(ys)):
                    for j in range(len(xs)):
                        # dark cells get white text
                        r, g, b, _ = im.cmap(im.norm(data[i, j]))
                        dark = np.isfinite(data[i, j]) and 0.3 * r + 0.59 * g + 0.11 * b < 0.5
                        ax.text(j, i, _fmt(text[i, j]), ha="center", va="center", fontsize=6,
                                color="white" if dark else "black")
        name = f"sweep-{_slug(kx)}-{_slug(ky)}.png"
        plots.save(fig, figures / name)
    head = f"| {ky} \\ {kx} | " + " | ".join(t for t, _ in xs) + " |"
    sep = "| --- |" + " --- |" * len(xs)
    rows = [f"| {ty} | " + " | ".join(f"{_fmt(c['yield'])} ({_fmt(c['median'])})" for c in row)
            + " |" for (ty, _), row in zip(ys, cells)]
    return [f"## `{kx}` and `{ky}`", "",
            f"![yield and median final MSE over {kx} and {ky}](figures/{name})", "",
            "Yield (median final MSE, V^2):", "", head, sep, *rows, ""]

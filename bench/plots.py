"""PNG plots of results (matplotlib, imported only when a plot is asked for)."""
from pathlib import Path
from typing import Any

from lsnet.bench.report import flat_rows


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend."""
    from lsnet.deps import require

    matplotlib = require("matplotlib", "plot", "plotting benchmark results")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> Path:
    """Write the figure atomically and close it."""
    from lsnet.export.artifact import staged

    with staged(Path(path)) as temp:
        fig.savefig(temp, dpi=120, bbox_inches="tight", format="png")
    fig.clear()
    return Path(path)


def series(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Model-latency rows grouped by 'target (runtime, machine)'; HTTP load-test rows (per concurrency) are left out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        for rec in flat_rows(doc):
            if rec["concurrency"] is not None:
                continue
            groups.setdefault(f"{rec['target']} ({rec['runtime']}, {rec['machine']})", []).append(rec)
    return groups


def latency_vs_batch(docs: list[dict[str, Any]], path: Path) -> Path:
    """p50 latency per image against batch, one line per target and runtime (log-log)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = plt.get_cmap("tab20").colors
    for i, (name, recs) in enumerate(series(docs).items()):
        recs = sorted(recs, key=lambda r: r["batch"])
        style = {"color": colors[i % len(colors)], "linestyle": ("-", "--", ":")[i // len(colors) % 3]}
        ax.plot([r["batch"] for r in recs], [r["p50_ms"] / r["batch"] for r in recs], marker="o", label=name, **style)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch")
    ax.set_ylabel("p50 latency per image (ms)")
    ax.set_title("Latency vs batch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes, never over the lines
    return save(fig, path)


def throughput_bars(docs: list[dict[str, Any]], path: Path) -> Path:
    """Throughput of every configuration as horizontal bars."""
    plt = pyplot()
    recs = [r for doc in docs for r in flat_rows(doc)]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * len(recs))))
    labels = [f"{r['target']} {r['runtime']} b{r['batch']} ({r['machine']})" for r in recs]
    ax.barh(labels, [r["throughput_ips"] for r in recs])
    ax.invert_yaxis()
    ax.set_xlabel("images / s")
    ax.set_title("Throughput per variant and runtime")
    ax.tick_params(axis="y", labelsize=7)
    return save(fig, path)


def paper_vs_measured(docs: list[dict[str, Any]], path: Path) -> Path | None:
    """Paper throughput beside the measured one for each ``claims`` entry; None without claims."""
    claims = [c for doc in docs for c in doc.get("claims", []) if c["claim"] == "throughput" and c.get("measured")]
    if not claims:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    x = range(len(claims))
    ax.bar([i - 0.2 for i in x], [c["paper"] for c in claims], width=0.4, label="paper (RTX 3090)")
    ax.bar([i + 0.2 for i in x], [c["measured"] for c in claims], width=0.4, label="measured")
    ax.set_xticks(list(x), [f"{c['model']}\n{c.get('hardware', '')}" for c in claims], fontsize=7)
    ax.set_ylabel("images / s (paper protocol)")
    ax.set_title("Throughput: paper vs measured")
    ax.legend()
    return save(fig, path)


def write_plots(docs: list[dict[str, Any]], folder: Path) -> list[Path]:
    """All plots into ``folder``: latency_vs_batch.png, throughput.png and paper_vs_measured.png (if claims)."""
    folder = Path(folder)
    made = [latency_vs_batch(docs, folder / "latency_vs_batch.png"), throughput_bars(docs, folder / "throughput.png")]
    paper = paper_vs_measured(docs, folder / "paper_vs_measured.png")
    return made + ([paper] if paper else [])

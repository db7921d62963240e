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


LSNET_COLOR, PEER_COLOR = "tab:blue", "tab:orange"


def is_peer(rec: dict[str, Any]) -> bool:
    """A row of another network (MobileNetV3, EfficientViT, ...), not an LSNet variant."""
    from lsnet.variants import VARIANTS

    model = rec.get("model") or rec["target"]
    return not any(str(model).startswith(name) for name in VARIANTS)


def latency_records(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Model-latency rows with the run they come from (its start, to the minute); HTTP load-test rows (per
    concurrency) are left out."""
    return [
        {**rec, "run": doc["created"][:16].replace("T", " ")}
        for doc in docs for rec in flat_rows(doc) if rec["concurrency"] is None
    ]


def config_label(rec: dict[str, Any], machines: int, runs: int = 1) -> str:
    """'target (runtime)', with the machine when the records come from more than one, and the run when from more
    than one run (the VM's speed drifts between runs)."""
    where = [rec["runtime"], *([rec["machine"]] if machines > 1 else []), *([rec["run"]] if runs > 1 else [])]
    return f"{rec['target']} ({', '.join(where)})"


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats on both latency (lower) and accuracy (higher), by latency."""
    front: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or y > front[-1][1]:
            front.append((x, y))
    return front


def accuracy_vs_latency(docs: list[dict[str, Any]], path: Path) -> Path | None:
    """Top-1 against p50 latency, one point per model/runtime (at its smallest measured batch), peers in another
    colour and the Pareto front drawn through the best trade-offs; one panel per evaluated dataset. None when no
    row carries accuracy."""
    recs = [r for r in latency_records(docs) if r["top1"] is not None]
    if not recs:
        return None
    machines = len({r["machine"] for r in recs})
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in sorted(recs, key=lambda r: r["batch"]):  # the smallest batch of each configuration
        chosen.setdefault((rec["dataset"] or "", config_label(rec, machines)), rec)
    datasets = sorted({d for d, _ in chosen})
    plt = pyplot()
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.8), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        points = [(label, rec) for (d, label), rec in chosen.items() if d == dataset]
        for peer, color, name in ((False, LSNET_COLOR, "LSNet"), (True, PEER_COLOR, "peers")):
            group = [(label, rec) for label, rec in points if is_peer(rec) == peer]
            if group:
                ax.scatter([r["p50_ms"] for _, r in group], [100 * r["top1"] for _, r in group], color=color, label=name, zorder=3)
            for label, rec in group:
                ax.annotate(f"{label} b{rec['batch']}", (rec["p50_ms"], 100 * rec["top1"]), fontsize=7,
                            xytext=(4, 3), textcoords="offset points")
        front = pareto_front([(r["p50_ms"], 100 * r["top1"]) for _, r in points])
        ax.step([x for x, _ in front], [y for _, y in front], where="post", color="grey", linestyle="--", linewidth=1,
                label="Pareto front", zorder=2)
        ax.set_xlabel("p50 latency (ms per call)")
        ax.set_ylabel(f"top-1 on {dataset or 'held-out'} (%)")
        ax.set_title(f"Accuracy vs latency ({dataset or 'held-out'})")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    return save(fig, path)


def latency_by_batch(docs: list[dict[str, Any]], path: Path) -> Path:
    """A small bar chart of p50 latency per configuration for each batch size (LSNet and peers coloured apart)."""
    recs = latency_records(docs)
    machines, runs = len({r["machine"] for r in recs}), len({r["run"] for r in recs})
    batches = sorted({r["batch"] for r in recs})
    plt = pyplot()
    cols = min(3, len(batches))
    rows = -(-len(batches) // cols)
    tallest = max(sum(r["batch"] == b for r in recs) for b in batches)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, rows * max(2.2, 0.28 * tallest + 1)), squeeze=False)
    for ax, batch in zip(axes.flat, batches):
        group = sorted((r for r in recs if r["batch"] == batch), key=lambda r: r["p50_ms"])
        ax.barh([config_label(r, machines, runs) for r in group], [r["p50_ms"] for r in group],
                color=[PEER_COLOR if is_peer(r) else LSNET_COLOR for r in group])
        ax.invert_yaxis()
        ax.set_title(f"batch {batch}", fontsize=10)
        ax.set_xlabel("p50 latency (ms per call)")
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(True, axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(batches):]:
        ax.set_visible(False)
    across = f"\n{runs} runs, each bar labelled with its run: compare bars of one run" if runs > 1 else ""
    fig.suptitle(f"p50 latency per batch size (blue: LSNet, orange: peers){across}")
    fig.tight_layout(rect=(0, 0, 1, 0.97 if runs > 1 else 1))
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


def runtime_matrix_chart(docs: list[dict[str, Any]], path: Path) -> Path | None:
    """p50 of every model in every runtime, one panel per batch, from the newest runtime shoot-out only (runs are
    not mixed: the VM's speed drifts between runs); None without a shoot-out."""
    from lsnet.bench import runtime_matrix

    runs = sorted((d for d in docs if runtime_matrix.is_shootout(d)), key=lambda d: d["created"])
    if not runs:
        return None
    matrix = runtime_matrix.p50_matrix(runs[-1])
    cols = runtime_matrix.columns(matrix)
    plt = pyplot()
    fig, axes = plt.subplots(1, len(matrix), figsize=(6 * len(matrix), 1.2 + 0.22 * len(cols) * max(map(len, matrix.values()))), squeeze=False)
    height = 0.8 / len(cols)
    for ax, batch in zip(axes.flat, sorted(matrix)):
        models = list(matrix[batch])
        for i, col in enumerate(cols):
            ys = [m + i * height for m in range(len(models)) if col in matrix[batch][models[m]]]
            xs = [matrix[batch][name][col] for name in models if col in matrix[batch][name]]
            ax.barh(ys, xs, height=height, label=runtime_matrix.RUNTIME_NAMES.get(col, col))
        ax.set_yticks([m + 0.4 - height / 2 for m in range(len(models))], models, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"batch {batch}", fontsize=10)
        ax.set_xlabel("p50 latency (ms per call)")
        ax.grid(True, axis="x", alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8)
    fig.suptitle(f"Model x runtime, {runs[-1]['environment']['machine']} ({runs[-1]['created'][:10]})")
    fig.tight_layout(rect=(0, 0.04 * -(-len(labels) // 4), 1, 1))
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
    """The report's pictures into ``folder``: accuracy_vs_latency.png (when rows carry accuracy),
    latency_by_batch.png, throughput.png, runtime_matrix.png (when there is a runtime shoot-out) and
    paper_vs_measured.png (when there are claims)."""
    folder = Path(folder)
    made = [
        accuracy_vs_latency(docs, folder / "accuracy_vs_latency.png"),
        latency_by_batch(docs, folder / "latency_by_batch.png"),
        throughput_bars(docs, folder / "throughput.png"),
        runtime_matrix_chart(docs, folder / "runtime_matrix.png"),
        paper_vs_measured(docs, folder / "paper_vs_measured.png"),
    ]
    return [p for p in made if p is not None]

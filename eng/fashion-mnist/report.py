"""Markdown tables from the experiment's results.jsonl (eng/fashion-mnist/run-experiment.sh).

usage: python3 report.py results.jsonl > results.md
"""
import json
import statistics
import sys

METHODS = [("evit-fuse", "EViT (fusion)"), ("idle", "IdleViT"), ("life", "Life regression"), ("tome", "ToMe")]
# Keep ratios k; for ToMe the pairs merged per layer r, spanning the MACs of k = 0.9 to 0.5.
RATES = {"tome": ["1", "2", "3", "4"]}
KEEP_RATIOS = ["0.9", "0.7", "0.5"]


def minutes(seconds):
    return f"{seconds / 60:.1f} min"


def throughput(rows, model):
    """Median images/s of MODEL ("full" or "METHOD.K") over the bench rounds, with its per-round ratios to
    the full model measured in the same round; None when not benchmarked."""
    rounds = [key.rsplit(".", 1)[1] for key in rows if key.startswith(f"bench.{model}.") and key.count(".") == model.count(".") + 2]
    if not rounds:
        return None
    speeds = [rows[f"bench.{model}.{r}"]["images_per_second"] for r in rounds]
    ratios = [rows[f"bench.{model}.{r}"]["images_per_second"] / rows[f"bench.full.{r}"]["images_per_second"] for r in rounds]
    return statistics.median(speeds), sorted(ratios)


def main(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                rows[row["key"]] = row
    base = rows["backbone"]
    bench_full = throughput(rows, "full")
    out = []
    out.append("| model | top-1 | top-5 | GMACs | CPU img/s | training time |")
    out.append("|---|---|---|---|---|---|")
    full_speed = f"{bench_full[0]:.0f}" if bench_full else "–"
    out.append(f"| backbone (full) | {base['top1'] * 100:.2f} % | {base['top5'] * 100:.2f} % | {base['gmacs']:.3f} | "
               f"{full_speed} | {minutes(base['train_seconds'])} |")
    control = rows.get("finetune.full")
    if control:
        out.append(f"| full model, finetuned with the methods' recipe (control) | {control['top1'] * 100:.2f} % | {control['top5'] * 100:.2f} % | "
                   f"{control['gmacs']:.3f} | – | {minutes(control['train_seconds'])} |")
    out.append("")
    out.append("| method | k (ToMe: r) | GMACs (cut) | top-1, no finetune | top-1, finetuned | Δ vs backbone | CPU img/s (× full, range) | finetune time |")
    out.append("|---|---|---|---|---|---|---|---|")
    for method, name in METHODS:
        for k in RATES.get(method, KEEP_RATIOS):
            plain = rows.get(f"nofinetune.{method}.{k}")
            tuned = rows.get(f"finetune.{method}.{k}")
            bench = throughput(rows, f"{method}.{k}")
            if plain is None:
                continue
            cut = 1 - plain["gmacs"] / base["gmacs"]
            tuned_top1 = f"{tuned['top1'] * 100:.2f} %" if tuned else "not run"
            delta = f"{(tuned['top1'] - base['top1']) * 100:+.2f}" if tuned else "–"
            if bench is None:
                speed = "–"
            elif len(bench[1]) == 1:
                speed = f"{bench[0]:.0f} ({bench[1][0]:.2f}×)"
            else:
                speed = f"{bench[0]:.0f} ({statistics.median(bench[1]):.2f}×, {bench[1][0]:.2f}–{bench[1][-1]:.2f})"
            time = minutes(tuned["train_seconds"]) if tuned else "–"
            out.append(f"| {name} | {k} | {plain['gmacs']:.3f} (−{cut * 100:.0f} %) | {plain['top1'] * 100:.2f} % | {tuned_top1} | {delta} | {speed} | {time} |")
    out.append("")
    out.append("| IdleViT k = 0.5, cut loss | top-1 | Δ vs backbone | finetune time |")
    out.append("|---|---|---|---|")
    for variant, key in [("none", "ablation.None"), ("inter", "ablation.Inter"), ("intra", "ablation.Intra"), ("both (θ = 20)", "finetune.idle.0.5")]:
        row = rows.get(key)
        if row:
            out.append(f"| {variant} | {row['top1'] * 100:.2f} % | {(row['top1'] - base['top1']) * 100:+.2f} | {minutes(row['train_seconds'])} |")
    out.append("")
    out.append("| IdleViT, cut-loss weight θ | k = 0.7 | k = 0.5 |")
    out.append("|---|---|---|")
    for theta, keys in [("0 (none)", ["theta.idle.0.7.0", "ablation.None"]),
                        ("2", ["theta.idle.0.7.2", "theta.idle.0.5.2"]),
                        ("20 (the paper's)", ["finetune.idle.0.7", "finetune.idle.0.5"])]:
        cells = [f"{rows[key]['top1'] * 100:.2f} % ({(rows[key]['top1'] - base['top1']) * 100:+.2f})" if key in rows else "not run"
                 for key in keys]
        out.append(f"| {theta} | {' | '.join(cells)} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])

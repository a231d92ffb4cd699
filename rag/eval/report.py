"""The evaluation report as JSON, Markdown and a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path


def to_markdown(report: dict) -> str:
    lines = [f"# Evaluation: {Path(report['questions_file']).name} on {Path(report['corpus']).name}", "",
             f"{report['questions']} questions; index of {report['index']['articles']} articles, "
             f"{report['index']['chunks']} chunks ({report['index']['build']}).", ""]
    for section in ("retrieval", "answers"):
        values = {k: v for k, v in report.get(section, {}).items() if isinstance(v, float)}
        if values:
            lines += [f"## {section.capitalize()}", "", "| " + " | ".join(values) + " |",
                      "|" + "---|" * len(values), "| " + " | ".join(f"{v:.3f}" for v in values.values()) + " |", ""]
    answers = report.get("answers", {})
    if "accuracy" in answers and "lead50_accuracy" in answers:
        gain = answers["accuracy"] - answers["lead50_accuracy"]
        lines += [f"Accuracy {answers['accuracy']:.3f} against the lead-50 baseline (the first 50 words "
                  f"of the top article) {answers['lead50_accuracy']:.3f}: {gain:+.3f}.", ""]
    early = report.get("early")
    if early:
        lines += ["## Asked before their story existed", "",
                  f"`{Path(early['questions_file']).name}`: {early['questions']} questions, refused "
                  f"{early['refusal_rate']:.3f} (every one should be).", ""]
    trade_off = report.get("refusal_curve") or {}
    if trade_off.get("curve"):
        lines += ["## Refusal trade-off", "",
                  f"Shipped threshold: {trade_off['shipped_threshold']}. A question is refused when its "
                  "refusal signal is below the threshold.", "",
                  "| threshold | refusal of unanswerable | false refusal of answerable |", "|---|---|---|"]
        lines += [f"| {p['threshold']:.3f} | {p['refusal_rate']:.3f} | {p['false_refusal_rate']:.3f} |"
                  for p in trade_off["curve"][::4]]
        lines.append("")
    latency = report.get("latency", {})
    if latency:
        lines += ["## Latency (ms)", "", "| stage | p50 | p95 |", "|---|---|---|"]
        lines += [f"| {name.removesuffix('_ms')} | {v['p50']} | {v['p95']} |" for name, v in latency.items()]
        lines.append("")
    lines += ["## Settings", "", "```json", json.dumps(report.get("settings", {}), indent=2), "```", ""]
    return "\n".join(lines)


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = {**{k: v for k, v in report.get("retrieval", {}).items() if isinstance(v, float)},
              **{k: v for k, v in report.get("answers", {}).items() if isinstance(v, float)}}
    values = {k: v for k, v in values.items() if v <= 1.0}  # answer_words is a count, not a rate
    trade_off = report.get("refusal_curve") or {}
    panels = 2 if trade_off.get("curve") else 1
    fig, axes = plt.subplots(1, panels, figsize=(max(6, len(values) * 0.9) + 4 * (panels - 1), 4),
                             gridspec_kw={"width_ratios": [max(2, len(values) / 4), 1][:panels]})
    ax = axes[0] if panels == 2 else axes
    bars = ax.bar(list(values), list(values.values()), color="#2563eb")
    ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{Path(report['questions_file']).name}: {report['questions']} questions")
    ax.tick_params(axis="x", rotation=35, labelsize=8)
    if panels == 2:
        _curve(axes[1], trade_off, report.get("answers", {}))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _curve(ax, trade_off: dict, answers: dict) -> None:
    curve = trade_off["curve"]
    ax.plot([p["false_refusal_rate"] for p in curve], [p["refusal_rate"] for p in curve],
            color="#2563eb", marker=".", markersize=3)
    if "refusal_rate" in answers and "false_refusal_rate" in answers:
        ax.plot([answers["false_refusal_rate"]], [answers["refusal_rate"]], "o", color="#dc2626",
                label="shipped threshold")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel("false refusals (answerable)", fontsize=8)
    ax.set_ylabel("refusals (unanswerable)", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title("refusal trade-off", fontsize=9)


def write_report(report: dict, out: Path) -> dict[str, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path = out if out.suffix == ".json" else out.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2))
    md_path = json_path.with_suffix(".md")
    md_path.write_text(to_markdown(report))
    png_path = json_path.with_suffix(".png")
    chart(report, png_path)
    return {"json": json_path, "markdown": md_path, "chart": png_path}

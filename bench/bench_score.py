"""Scoring speed benchmark: tonewatch against VADER and the same weights in PyTorch, same inputs, same run.

    python bench/bench_score.py            # 2,000 messages, 2 threads
    python bench/bench_score.py -n 500     # quicker

Measures, on one set of realistic support messages:

* tonewatch throughput with calls of 32 messages (``analyze_batch(batch, batch_size=32)``),
  and single-message latency p50/p95 (``analyze(text)``), onnxruntime on 2 intra-op threads;
* VADER (``vaderSentiment``) throughput, the lexicon baseline;
* the same fine-tuned weights run through PyTorch/transformers (``training/runs/main/best.pt``
  if present, else the bundled model's weights recovered from its ONNX file, in the
  ``MultiTask`` module the training code uses; batches of 32 in input order, padded to the
  longest, 2 torch threads, whole texts only: the goal's baseline), and for information the same with each
  sentence of a multi-sentence message read too, the work tonewatch does. Skipped, with the reason, without torch;
* model load time in a fresh interpreter, and peak RSS of a ``tonewatch score`` subprocess
  over the same messages (``getrusage(RUSAGE_CHILDREN)`` of a wrapper whose only child it is).

Prints a Rich table with the ratios and writes JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGETS = {"batch_msgs_per_s": 400.0, "single_p95_ms": 10.0, "torch_ratio": 3.0, "load_s": 2.0, "rss_mb": 400.0}

_OPENERS = [
    "Hi,", "Hello team,", "", "", "Hey there.", "Good morning,", "", "Dear support,",
]  # fmt: skip
_BODIES = [
    "my order {order} still hasn't arrived and the tracking page hasn't changed in {n} days.",
    "I was charged twice for my {plan} subscription this month. Can you refund the duplicate payment?",
    "the app keeps crashing whenever I open the {feature} screen on my phone.",
    "thank you so much for sorting out my refund so quickly, {agent} was brilliant!",
    "I guess the new {feature} works fine.",
    "Oh great, another delay on order {order}.",
    "no problems or complaints so far with the {plan} plan.",
    "please advise on the current status of ticket #{ticket} as this has now been outstanding for {n} business days.",
    "I love the {feature}, but the delivery was a nightmare.",
    "this is the third time I'm writing about invoice {ticket} and still no reply.",
    "how do I change the email address on my {plan} account?",
    "our whole team can't log in since this morning and we have a deadline on {day}.",
    "if this isn't resolved by {day} I will cancel my subscription.",
    "the export is a bit slow since the last update, could be better to be honest.",
    "can you send me a copy of last month's receipt for order {order} please?",
    "{agent} on chat was really helpful and fixed the sync issue in minutes.",
    "I'm a little confused about invoice {ticket}, there are two lines called service fee.",
    "NOTHING WORKS ON THE {feature_caps} PAGE AND NOBODY ANSWERS!!!",
    "not the worst experience I've had, but the {feature} page is hard to find.",
    "the replacement arrived today and it works perfectly. Couldn't be happier.",
]
_CLOSERS = ["", "", "Thanks,", "Thanks in advance.", "Regards, {agent2}", "Cheers", "Please help!", "???"]
_SLOTS = {
    "feature": ["dashboard", "camera", "export", "calendar", "billing", "search", "checkout", "profile"],
    "plan": ["Pro", "Basic", "Family", "Business", "annual"],
    "agent": ["Maria", "the agent", "Tom", "your colleague Sam", "the on-call engineer"],
    "agent2": ["Anna", "Lee", "Priya", "Jon"],
    "day": ["Friday", "tomorrow", "Monday", "the 14th"],
}


def make_messages(n: int, seed: int = 7) -> list[str]:
    """Deterministic, unique, realistic support messages of one to three sentences."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        slots = {k: rng.choice(v) for k, v in _SLOTS.items()}
        slots.update(
            order=str(rng.randint(10_000, 99_999)), ticket=str(rng.randint(1_000, 99_999)), n=rng.randint(2, 20)
        )
        slots["feature_caps"] = str(slots["feature"]).upper()
        first, second = rng.sample(_BODIES, 2)
        body = first.format(**slots)
        if rng.random() < 0.35:
            extra = second.format(**slots)
            body += " " + extra[0].upper() + extra[1:]
        opener = rng.choice(_OPENERS)
        text = " ".join(p for p in (opener, body[0].upper() + body[1:], rng.choice(_CLOSERS).format(**slots)) if p)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


# Instruction sets that decide how fast int8 matrix products run (onnxruntime picks its kernels at run time):
# with VNNI an int8 multiply-add is one instruction, without it int8 gains much less over float32, so the ratio
# to the float32 PyTorch row depends on the CPU as much as on tonewatch.
_ISA = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_info() -> dict[str, Any]:
    """The CPU's model name and which of :data:`_ISA` it has (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {"model": platform.processor() or None, "isa": []}
    fields: dict[str, str] = {}
    for line in text.splitlines():  # one block per logical CPU: the first says it for all
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {"model": fields.get("model name"), "isa": [f for f in _ISA if f in flags]}


def int8_note(cpu: dict[str, Any]) -> str:
    """One line on how this CPU runs int8, printed under the table so a ratio is read with its hardware."""
    isa = set(cpu.get("isa") or ())
    if isa & {"avx512_vnni", "avx_vnni", "amx_int8"}:
        return "int8 matrix products use this CPU's VNNI instructions (one instruction per multiply-add)"
    if isa:
        return "no VNNI on this CPU: int8 multiply-adds take several instructions, so the ratio to float32 can be lower"
    return "instruction sets unknown on this platform"


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def bench_tonewatch(messages: list[str], threads: int, repeats: int, model_dir: Path | None = None) -> dict[str, Any]:
    from tonewatch.score import Analyzer

    analyzer = Analyzer(model_dir, threads=threads).load()
    analyzer.analyze_batch(messages[:64], batch_size=32)  # warm-up
    rates, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(messages), 32):
            analyzer.analyze_batch(messages[i : i + 32], batch_size=32)
        rates.append(len(messages) / (time.perf_counter() - t0))
        cpu.append((time.process_time() - c0) * 1000 / len(messages))
    single = messages[: min(len(messages), 400)]
    lat = _latencies(analyzer.analyze, single)
    entry = {} if model_dir is not None else _entry_point_latency(single, threads)
    return {
        "batch_msgs_per_s": max(rates),
        "batch_runs_msgs_per_s": [round(r, 1) for r in rates],
        "cpu_ms_per_msg": min(cpu),
        "single_p50_ms": statistics.median(lat),
        "single_p95_ms": _pct(lat, 0.95),
        "single_n": len(lat),
        **entry,
        "model_version": analyzer.model_version,
        "precision": analyzer.manifest.get("precision"),
    }


def _latencies(analyze: Callable[[str], object], texts: list[str]) -> list[float]:
    """Milliseconds per call of ``analyze`` on each text, one at a time, after 20 warm-up calls."""
    for text in texts[:20]:
        analyze(text)
    lat = []
    for text in texts:
        t0 = time.perf_counter()
        analyze(text)
        lat.append((time.perf_counter() - t0) * 1000)
    return lat


def _entry_point_latency(texts: list[str], threads: int) -> dict[str, float]:
    """One message through ``tonewatch.analyze``, the entry point users call: the analyzer plus finding it."""
    from unittest import mock

    import tonewatch

    with mock.patch.dict(os.environ, {"TONEWATCH_THREADS": str(threads)}):
        lat = _latencies(tonewatch.analyze, texts)
    return {"entry_p50_ms": statistics.median(lat), "entry_p95_ms": _pct(lat, 0.95)}


def bench_early_ab(messages: list[str], threads: int) -> dict[str, Any]:
    """One message at a time, its sentences read early (shipped) or after the first pass, alternating per message.

    A/B in one process on the same messages (400, twice, the order of the two swapped every message), so the
    machine's drift falls on both sides alike. "after" turns the analyzer's early start off for the run.
    """
    from tonewatch.score import Analyzer

    analyzer = Analyzer(None, threads=threads).load()
    early = analyzer._speculate
    texts = messages[: min(len(messages), 400)]
    for text in texts[:20]:
        analyzer.analyze(text)
    lat: dict[str, list[float]] = {"early": [], "after": []}
    for _ in range(2):
        for i, text in enumerate(texts):
            for side in ("early", "after") if i % 2 == 0 else ("after", "early"):
                analyzer._speculate = early if side == "early" else (lambda *_a, **_k: None)  # type: ignore[method-assign]
                t0 = time.perf_counter()
                analyzer.analyze(text)
                lat[side].append((time.perf_counter() - t0) * 1000)
    analyzer._speculate = early  # type: ignore[method-assign]
    return {side: {"p50_ms": statistics.median(v), "p95_ms": _pct(v, 0.95)} for side, v in lat.items()}


def bench_reading(messages: list[str], threads: int, repeats: int, read: str) -> dict[str, Any]:
    """The analyzer with the bundled model's files but its sentences read another way (manifest ``sentences.read``).

    Speed only, for comparison in the same run: ``alone`` reads every sentence of a multi-sentence message again
    on its own (what models before 1.2.0 did); ``in_context`` pools them all from the message's one forward pass
    and never reads them again (it does not pass the reading rule: ``training/README.md``).
    """
    import shutil

    from tonewatch.score._model import BUNDLED_MODEL_DIR

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        shutil.copytree(BUNDLED_MODEL_DIR, folder)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["sentences"] = {"read": read}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return bench_tonewatch(messages, threads, repeats, folder)


def bench_vader(messages: list[str], repeats: int) -> dict[str, Any]:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return {"skipped": "vaderSentiment is not installed (pip install 'tonewatch[test]')"}
    sia = SentimentIntensityAnalyzer()
    rates, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for text in messages:
            sia.polarity_scores(text)
        rates.append(len(messages) / (time.perf_counter() - t0))
        cpu.append((time.process_time() - c0) * 1000 / len(messages))
    return {"msgs_per_s": max(rates), "cpu_ms_per_msg": min(cpu)}


def bench_torch(
    messages: list[str], threads: int, repeats: int, checkpoint: Path, *, sentences: bool = False
) -> dict[str, Any]:
    """The same weights through transformers + PyTorch (what a Python ML stack would run).

    ``sentences`` also reads each sentence of a multi-sentence message, as tonewatch does (the
    work-for-work comparison; the goal's baseline reads each message once).

    Uses the training checkpoint when there is one; otherwise the bundled model's own weights,
    recovered from its ONNX file (int8 weights dequantized to float32: the very values the
    runtime multiplies with), so the comparison never depends on a local training run.
    """
    try:
        import torch
        from transformers import AutoTokenizer
    except ImportError:
        return {"skipped": "torch/transformers are not installed (pip install 'tonewatch[train]')"}
    from tonewatch.learn._torch_model import build_model, load_model_folder, pretrained_base_path
    from tonewatch.score._model import BUNDLED_MODEL_DIR, read_manifest
    from tonewatch.score._normalize import normalize_for_model

    torch.set_num_threads(threads)
    if checkpoint.is_file():
        from tonewatch.learn._torch_model import base_encoder_config

        model = build_model(base_encoder_config())
        model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
        weights = str(checkpoint.relative_to(ROOT))
    else:
        model = load_model_folder(BUNDLED_MODEL_DIR, read_manifest(BUNDLED_MODEL_DIR))
        weights = "bundled model, weights recovered from model.onnx"
    model.eval()
    tok = AutoTokenizer.from_pretrained(str(pretrained_base_path()))

    from tonewatch.score._sentences import split_sentences

    def expand(batch: list[str]) -> list[str]:
        out: list[str] = []
        for text in batch:
            spans = split_sentences(text)
            out.append(text)
            if len(spans) > 1:
                out += [text[a:b] for a, b in spans]
        return out

    def run(batch: list[str]) -> None:
        texts = expand(batch) if sentences else batch
        for i in range(0, len(texts), 32):
            enc = tok(
                [normalize_for_model(t) for t in texts[i : i + 32]],
                padding=True,
                truncation=True,
                max_length=128,
                return_tensors="pt",
            )
            with torch.inference_mode():
                s, e, z, _ = model(enc["input_ids"], enc["attention_mask"])
                torch.softmax(s, -1), torch.sigmoid(e), torch.sigmoid(z)

    run(messages[:32])
    rates, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(messages), 32):
            run(messages[i : i + 32])
        rates.append(len(messages) / (time.perf_counter() - t0))
        cpu.append((time.process_time() - c0) * 1000 / len(messages))
    sequences = sum(len(expand([m])) for m in messages) if sentences else len(messages)
    return {
        "msgs_per_s": max(rates),
        "cpu_ms_per_msg": min(cpu),
        "sequences_per_msg": round(sequences / len(messages), 2),
        "torch": torch.__version__,
        "weights": weights,
    }


def bench_load(threads: int) -> dict[str, Any]:
    """Cold load in a fresh interpreter: verify + session + tokenizer, then language ID and cue patterns."""
    code = (
        "import time, json\n"
        "t0 = time.perf_counter()\n"
        "from tonewatch.score import Analyzer\n"
        f"a = Analyzer(threads={threads})\n"
        "t1 = time.perf_counter(); a._ensure_model(); t2 = time.perf_counter()\n"
        "a.load(); t3 = time.perf_counter()\n"
        "a.analyze('Where is my order?'); t4 = time.perf_counter()\n"
        "print(json.dumps({'import_s': t1 - t0, 'model_load_s': t2 - t1, 'ready_s': t3 - t1,"
        " 'first_message_s': t4 - t3}))"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["model_load_s"])
    return {k: round(v, 3) for k, v in best.items()}


def bench_rss(messages: list[str], threads: int) -> dict[str, Any]:
    """Peak RSS of one `tonewatch score` run, read by a wrapper process whose only child is that run."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(messages)))
        out_file = str(Path(tmp) / "out.jsonl")
        cmd = [
            sys.executable, "-c", "from tonewatch.cli import main; main()",
            "score", "--input", str(src), "--output", out_file, f"--threads={threads}", "--no-progress",
        ]  # fmt: skip
        wrapper = (
            "import resource, subprocess, sys, json, time\n"
            f"t = time.perf_counter(); rc = subprocess.run({cmd!r}, capture_output=True).returncode\n"
            "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "print(json.dumps({'rc': rc, 'peak_kb': peak, 'seconds': time.perf_counter() - t}))"
        )
        out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True, cwd=ROOT)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    kb = r["peak_kb"] if platform.system() == "Linux" else r["peak_kb"] / 1024  # macOS reports bytes
    return {
        "peak_rss_mb": round(kb / 1024, 1),
        "exit_code": r["rc"],
        "messages": len(messages),
        "seconds": r["seconds"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--messages", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--checkpoint", type=Path, default=ROOT / "training" / "runs" / "main" / "best.pt")
    ap.add_argument(
        "--in-context",
        action="store_true",
        help="also time sentences pooled from each message's forward pass, never read again (speed only)",
    )
    ap.add_argument(
        "--alone",
        action="store_true",
        help="also time every sentence read again on its own, as before model 1.2.0 (speed only)",
    )
    ap.add_argument(
        "--early-ab",
        action="store_true",
        help="also time one message at a time with its sentences read early (shipped) and after, alternating",
    )
    args = ap.parse_args()

    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    messages = make_messages(args.messages)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with console.status("peak memory of tonewatch score..."):
        rss = bench_rss(messages, args.threads)
    with console.status("model load..."):
        load = bench_load(args.threads)
    with console.status("tonewatch..."):
        tw = bench_tonewatch(messages, args.threads, args.repeats)
    readings: dict[str, Any] = {}
    early_ab = bench_early_ab(messages, args.threads) if args.early_ab else None
    for read, wanted in (("in_context", args.in_context), ("alone", args.alone)):
        if wanted:
            with console.status(f"tonewatch, sentences read {read}..."):
                readings[read] = bench_reading(messages, args.threads, args.repeats, read)
    with console.status("VADER..."):
        vader = bench_vader(messages, args.repeats)
    with console.status("PyTorch/transformers..."):
        torch_r = bench_torch(messages, args.threads, args.repeats, args.checkpoint)
    with console.status("PyTorch/transformers, texts and sentences..."):
        torch_s = bench_torch(messages, args.threads, args.repeats, args.checkpoint, sentences=True)
    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "cpu": cpu_info(),
            "threads": args.threads,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        },
        "messages": len(messages),
        "mean_chars": round(sum(map(len, messages)) / len(messages), 1),
        "tonewatch": tw,
        "tonewatch_in_context": readings.get("in_context"),
        "tonewatch_alone": readings.get("alone"),
        "early_ab": early_ab,
        "vader": vader,
        "pytorch": torch_r,
        "pytorch_same_sequences": torch_s,
        "load": load,
        "memory": rss,
        "targets": TARGETS,
    }
    _print(console, result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"score-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"results: {path.relative_to(ROOT)}")


def _print(console: Any, r: dict[str, Any]) -> None:
    from rich.table import Table

    tw, vader, pt = r["tonewatch"], r["vader"], r["pytorch"]

    def ok(good: bool) -> str:
        return "[green]✓[/]" if good else "[red]✗[/]"

    title = f"tonewatch scoring benchmark: {r['messages']} messages, {r['machine']['threads']} threads"
    t = Table(title=title, title_justify="left")
    for col in ("measure", "value", "goal", "", "tonewatch is (wall)", "CPU ms/msg", "tonewatch is (CPU)"):
        t.add_column(col, justify="left" if col == "measure" else "right")
    rate, cpu = tw["batch_msgs_per_s"], tw["cpu_ms_per_msg"]
    t.add_row("tonewatch, calls of 32 messages", f"{rate:,.0f} msg/s", "≥ 400", ok(rate >= 400), "", f"{cpu:.2f}", "")
    t.add_row("tonewatch, one message p50", f"{tw['single_p50_ms']:.1f} ms", "", "", "", "", "")
    p95 = tw["single_p95_ms"]
    t.add_row("tonewatch, one message p95", f"{p95:.1f} ms", "< 10 ms", ok(p95 < 10), "", "", "")
    ab = r.get("early_ab")
    if ab:
        early, after = (f"{ab[k]['p50_ms']:.1f} / {ab[k]['p95_ms']:.1f}" for k in ("early", "after"))
        t.add_row("  A/B: sentences read early / after", f"{early} / {after} ms", "info", "", "", "", "")
    if "entry_p50_ms" in tw:
        entry = f"{tw['entry_p50_ms']:.1f} / {tw['entry_p95_ms']:.1f} ms"
        t.add_row("  the same via tonewatch.analyze, p50 / p95", entry, "info", "", "", "", "")
    for key, what in (("tonewatch_in_context", "in context, never again alone"), ("tonewatch_alone", "all alone")):
        other = r.get(key)
        if not other:
            continue
        o_rate = other["batch_msgs_per_s"]
        vs_torch = "" if "skipped" in pt else f"{o_rate / pt['msgs_per_s']:.2f}× PyTorch"
        t.add_row(
            f"  sentences read {what} (speed only)",
            f"{o_rate:,.0f} msg/s",
            "info",
            "",
            f"{o_rate / rate:.2f}× bundled; {vs_torch}",
            f"{other['cpu_ms_per_msg']:.2f}",
            "",
        )
    if "skipped" in vader:
        t.add_row("VADER (lexicon)", "skipped", "", "", vader["skipped"], "", "")
    else:
        v_rate, v_cpu = vader["msgs_per_s"], vader["cpu_ms_per_msg"]
        t.add_row(
            "VADER (lexicon)",
            f"{v_rate:,.0f} msg/s",
            "",
            "",
            f"{rate / v_rate:.2f}×",
            f"{v_cpu:.2f}",
            f"{v_cpu / cpu:.2f}×",
        )
    if "skipped" in pt:
        t.add_row("same weights, PyTorch/transformers", "skipped", "", "", pt["skipped"], "", "")
    else:
        ratio, p_cpu = rate / pt["msgs_per_s"], pt["cpu_ms_per_msg"]
        t.add_row(
            "same weights, PyTorch/transformers",
            f"{pt['msgs_per_s']:,.0f} msg/s",
            "tw ≥ 3×",
            ok(ratio >= 3),
            f"{ratio:.2f}×",
            f"{p_cpu:.2f}",
            f"{p_cpu / cpu:.2f}×",
        )
    ps = r.get("pytorch_same_sequences", {})
    if ps and "skipped" not in ps:
        ratio_s, s_cpu = rate / ps["msgs_per_s"], ps["cpu_ms_per_msg"]
        t.add_row(
            f"  same, reading sentences too ({ps['sequences_per_msg']:.1f} seq/msg)",
            f"{ps['msgs_per_s']:,.0f} msg/s",
            "info",
            "",
            f"{ratio_s:.2f}×",
            f"{s_cpu:.2f}",
            f"{s_cpu / cpu:.2f}×",
        )
    ld = r["load"]
    t.add_row(
        "model load (verify + session)", f"{ld['model_load_s']:.2f} s", "< 2 s", ok(ld["model_load_s"] < 2), "", "", ""
    )
    t.add_row("analyzer ready (+ language ID, cues)", f"{ld['ready_s']:.2f} s", "", "", "", "", "")
    mem = r["memory"]
    rss_ok = ok(mem["peak_rss_mb"] < 400)
    t.add_row(
        f"peak RSS, tonewatch score ({mem['messages']} msgs)",
        f"{mem['peak_rss_mb']:.0f} MB",
        "< 400 MB",
        rss_ok,
        "",
        "",
        "",
    )
    console.print(t)
    cpu = r["machine"].get("cpu") or {}
    console.print(f"CPU: {cpu.get('model') or 'unknown'} ({', '.join(cpu.get('isa') or ()) or 'no ISA listed'})")
    console.print(int8_note(cpu), style="dim")
    la = r["machine"]["load_average_before"]
    if la is not None and la > 0.5 * (r["machine"]["cpus"] or 1):
        cpus = r["machine"]["cpus"]
        console.print(f"[yellow]load average was {la:.1f} on {cpus} CPUs: wall-clock figures include contention[/]")


if __name__ == "__main__":
    main()

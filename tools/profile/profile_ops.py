#!/usr/bin/env python3
"""Measure the fused ops of an llmsim scenario on a GPU and write the measurement CSV.

Input: the feature CSV of `llmsim features SCENARIO [--batch ...] [--seq ...]` (docs/ml-estimator.md).
Output: the measurement CSV `llmsim features SCENARIO ... --align` reads:

    kind,hardware,<shape columns>,measured_us,source,note

one row per distinct op shape of a kind this script can time (KERNELS below), with `#` comment
lines of provenance (GPU, torch and CUDA versions, date, command) at the top.

Timing: each op runs `--warmup` times, then `--iters` times between CUDA events; the median of
`--repeats` such runs is reported, in microseconds per call. The kernels are PyTorch's own
(torch.matmul for GEMMs, scaled_dot_product_attention for causal GQA prefill, batched matmuls +
softmax for absorbed MLA decoding), so the numbers describe PyTorch on that GPU, not DeepGEMM or
FlashMLA; say so in the model's training data description.

Without a GPU: `--dry-run` lists the shapes that would be measured (no torch needed), and
`--fake-timer analytic` writes the CSV with the features' analytic time in place of a measurement
(for testing the pipeline end to end on CPU).
"""
import argparse
import csv
import datetime
import statistics
import sys

SCHEMA_VERSION = "1"

# Op kind -> the shape parameters (names of the op's params in the features' `shape` column)
# that identify one measurement. Each is also a column of the measurement CSV.
KERNELS = {
    "linear": ["tokens", "in_features", "out_features", "weight_dtype", "act_dtype"],
    "gqa_attention_prefill": ["batch", "seq_len", "q_heads", "kv_heads", "head_dim", "act_dtype"],
    "mla_attention_decode": ["batch", "kv_len", "heads", "kv_lora_rank", "qk_rope_head_dim", "act_dtype"],
}


def parse_shape(text):
    """The `name=value` pairs of a features `shape` field."""
    out = {}
    for pair in text.split(" "):
        if "=" in pair:
            k, v = pair.split("=", 1)
            out[k] = v
    return out


def read_features(path):
    """Op rows of a features CSV (comment lines skipped), checked for the schema version."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#") and line.strip()))
    for i, r in enumerate(rows):
        if r.get("schema_version") != SCHEMA_VERSION:
            raise SystemExit(f"{path}: row {i + 1}: schema_version {r.get('schema_version')!r}, this script reads {SCHEMA_VERSION}")
    return [r for r in rows if r.get("level") == "op"]


def enumerate_shapes(rows, hardware=None):
    """Distinct (kind, hardware, shape) cases of the kinds in KERNELS, in first-seen order."""
    seen = set()
    out = []
    for r in rows:
        kind = r["kind"]
        if kind not in KERNELS:
            continue
        shape = parse_shape(r["shape"])
        if any(p not in shape for p in KERNELS[kind]):
            continue
        case = {"kind": kind, "hardware": hardware or r["hardware"], **{p: shape[p] for p in KERNELS[kind]}}
        key = tuple(sorted(case.items()))
        if key in seen:
            continue
        seen.add(key)
        out.append({**case, "analytic_us": float(r["analytic_us"])})
    return out


def columns_of(cases):
    """Measurement CSV columns: kind, hardware, the union of shape columns, measured_us, source, note."""
    shape_cols = []
    for c in cases:
        for p in KERNELS[c["kind"]]:
            if p not in shape_cols:
                shape_cols.append(p)
    return ["kind", "hardware", *shape_cols, "measured_us", "source", "note"]


def write_csv(out, cases, times_us, provenance, source):
    """The measurement CSV: provenance comments, header, one row per case (empty cells for other kinds' shape columns)."""
    cols = columns_of(cases)
    for line in provenance:
        out.write(f"# {line}\n")
    w = csv.DictWriter(out, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for c, t in zip(cases, times_us):
        row = {k: c.get(k, "") for k in cols}
        row["measured_us"] = f"{t:.4f}"
        row["source"] = source
        row["note"] = f"median of repeats, {c['kind']}"
        w.writerow(row)


# ---- GPU timing (torch imported only here) ----

TORCH_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def torch_timer(args):
    import torch

    def dt(name):
        # FP8 GEMMs need scaled kernels; time them in BF16 and say so in the note (an upper bound).
        return getattr(torch, TORCH_DTYPES.get(name, "bfloat16"))

    def run(fn):
        for _ in range(args.warmup):
            fn()
        samples = []
        for _ in range(args.repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(args.iters):
                fn()
            end.record()
            torch.cuda.synchronize()
            samples.append(start.elapsed_time(end) * 1e3 / args.iters)
        return statistics.median(samples)

    def measure(c):
        dev = "cuda"
        if c["kind"] == "linear":
            t, k, n = int(c["tokens"]), int(c["in_features"]), int(c["out_features"])
            x = torch.randn(t, k, device=dev, dtype=dt(c["act_dtype"]))
            w = torch.randn(k, n, device=dev, dtype=dt(c["act_dtype"]))
            return run(lambda: torch.matmul(x, w))
        if c["kind"] == "gqa_attention_prefill":
            b, s, hq, hkv, d = (int(c[p]) for p in ["batch", "seq_len", "q_heads", "kv_heads", "head_dim"])
            q = torch.randn(b, hq, s, d, device=dev, dtype=dt(c["act_dtype"]))
            kv = torch.randn(b, hkv, s, d, device=dev, dtype=dt(c["act_dtype"]))
            rep = hq // hkv
            k = kv.repeat_interleave(rep, dim=1)
            return run(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, k, is_causal=True))
        if c["kind"] == "mla_attention_decode":
            b, sk, h, r, rope = (int(c[p]) for p in ["batch", "kv_len", "heads", "kv_lora_rank", "qk_rope_head_dim"])
            q = torch.randn(b, h, r + rope, device=dev, dtype=dt(c["act_dtype"]))
            kv = torch.randn(b, sk, r + rope, device=dev, dtype=dt(c["act_dtype"]))
            scale = (r + rope) ** -0.5

            def mla():
                p = torch.softmax(torch.bmm(q, kv.transpose(1, 2)) * scale, dim=-1)
                return torch.bmm(p, kv[:, :, :r])

            return run(mla)
        raise ValueError(c["kind"])

    import torch as _t
    provenance = [
        f"gpu: {_t.cuda.get_device_name(0)}",
        f"torch {_t.__version__}, CUDA {_t.version.cuda}",
    ]
    return measure, provenance


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", required=True, help="features CSV from llmsim features")
    ap.add_argument("--out", help="measurement CSV to write (default stdout)")
    ap.add_argument("--hardware", help="hardware file name to record (default: the features' hardware)")
    ap.add_argument("--dry-run", action="store_true", help="list the shapes that would be measured, time nothing")
    ap.add_argument("--fake-timer", choices=["analytic"], help="testing without a GPU: write the analytic time as measured")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    cases = enumerate_shapes(read_features(args.features), args.hardware)
    out = open(args.out, "w", newline="") if args.out else sys.stdout
    try:
        if args.dry_run:
            w = csv.DictWriter(out, fieldnames=columns_of(cases)[:-3], extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            for c in cases:
                w.writerow(c)
            return 0
        if args.fake_timer == "analytic":
            times = [c["analytic_us"] for c in cases]
            provenance = ["fake timer: analytic_us of the features (no measurement)"]
            source = "fake-timer"
        else:
            measure, provenance = torch_timer(args)
            times = [measure(c) for c in cases]
            source = "tools/profile/profile_ops.py"
        provenance = [
            *provenance,
            f"date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')}",
            f"command: profile_ops.py {' '.join(argv if argv is not None else sys.argv[1:])}",
        ]
        write_csv(out, cases, times, provenance, source)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

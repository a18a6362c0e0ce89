"""CPU tests of profile_ops.py: shape enumeration and CSV writing (no torch, no GPU)."""
import csv
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import profile_ops  # noqa: E402

HEADER = "schema_version,level,kind,hardware,shape,analytic_us\n"
FEATURES = (
    "# llmsim features, schema 1\n" + HEADER +
    "1,op,linear,H100-SXM,tokens=8 in_features=64 out_features=32 weight_dtype=bf16 act_dtype=bf16,1.5\n"
    "1,op,linear,H100-SXM,tokens=8 in_features=64 out_features=32 weight_dtype=bf16 act_dtype=bf16,1.5\n"
    "1,op,rmsnorm,H100-SXM,tokens=8 hidden=64 act_dtype=bf16,0.5\n"
    "1,op,gqa_attention_prefill,H100-SXM,batch=1 seq_len=128 q_heads=8 kv_heads=2 head_dim=64 window=0 act_dtype=bf16 kv_dtype=bf16,3\n"
    "1,layer,ffn_layer,H100-SXM,,9\n"
)


class ProfileOps(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.features = os.path.join(self.dir, "features.csv")
        with open(self.features, "w") as f:
            f.write(FEATURES)

    def test_enumerates_distinct_shapes_of_timed_kinds_only(self):
        cases = profile_ops.enumerate_shapes(profile_ops.read_features(self.features))
        self.assertEqual([c["kind"] for c in cases], ["linear", "gqa_attention_prefill"])
        self.assertEqual(cases[0]["tokens"], "8")
        self.assertEqual(cases[1]["kv_heads"], "2")

    def test_writes_the_measurement_csv_llmsim_aligns(self):
        out = os.path.join(self.dir, "measured.csv")
        self.assertEqual(profile_ops.main(["--features", self.features, "--out", out, "--fake-timer", "analytic"]), 0)
        text = open(out).read()
        self.assertTrue(text.startswith("# fake timer"))
        rows = list(csv.DictReader(l for l in text.splitlines() if not l.startswith("#")))
        self.assertEqual(list(rows[0].keys())[:2], ["kind", "hardware"])
        self.assertEqual([r["measured_us"] for r in rows], ["1.5000", "3.0000"])
        self.assertEqual(rows[0]["batch"], "")  # another kind's shape column stays empty

    def test_rejects_another_schema_version(self):
        with open(self.features, "w") as f:
            f.write(HEADER + "2,op,linear,X,tokens=1,1\n")
        with self.assertRaises(SystemExit):
            profile_ops.read_features(self.features)

    def test_dry_run_lists_shapes_without_times(self):
        buf = io.StringIO()
        sys_stdout, sys.stdout = sys.stdout, buf
        try:
            profile_ops.main(["--features", self.features, "--dry-run"])
        finally:
            sys.stdout = sys_stdout
        lines = buf.getvalue().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertNotIn("measured_us", lines[0])


if __name__ == "__main__":
    unittest.main()

/**
 * Hand-written text of docs/validation.md: how predictions are made and what is assumed. The
 * command embeds it so the whole document is regenerated (and checked) in one piece.
 */

export const INTRO = [
  "llmsim predicts every published measurement in the reference folder that its op formulas and timing model can",
  "express, and shows the error openly. For each row: the predicted value, the measured value and the absolute",
  "percentage error APE = |predicted / measured - 1| x 100; per dataset the median and p90 APE (linear",
  "interpolation between order statistics). Rows llmsim cannot model are counted with the reason. The test suite",
  "regenerates this page and fails if it differs from the committed copy, and fails if the acceptance bounds break.",
  "The reference folder is `data/reference/` in the repository (`--reference DIR` overrides it); its README names",
  "each file's source."
].join("\n")

export const TIMING_MODEL = [
  "Timing model (src/timing/roofline.ts, src/timing/waves.ts), per fused op, constants from the hardware file's",
  "`efficiency:` block, the same for every shape:",
  "",
  "```",
  "spent FLOPs = waves * sm_count * block_m * block_n * 2 * k      per GEMM (tiled ops; waves.ts)",
  "waves       = ceil(m blocks * ceil(n / block_n) / sm_count)",
  "m blocks    = groups * ceil(m / block_m); with routed expert loads, groups * E[max(1, ceil(X / block_m))], X ~ Poisson(m)",
  "block       = tile_m x tile_n (block_m 128 for contiguous grouped, DeepGEMM's layout), or with tile_choice: waves",
  "              DeepGEMM's per-shape pick (fewest waves, then the fullest last wave; get_best_configs @ 989c9e3)",
  "load_ms     = waves * (block_m + block_n) * k * operand bytes / sm_load_gbps   (one SM's shared-memory fill; 0 if unset)",
  "compute_ms  = spent FLOPs / (peak TFLOPS of the math dtype * compute)",
  "read_ms     = bytes read / (HBM GB/s * memory);  write_ms = bytes written / (HBM GB/s * memory)",
  "GEMM        = max(max(compute_ms, read_ms) + write_ms, load_ms) + kernels * kernel_latency_us",
  "              (epilogue store after the K loop; the operand loads run on under it)",
  "other ops   = max(compute_ms, read_ms + write_ms) + kernels * kernel_latency_us",
  "link ops    = link bytes / (link GB/s * interconnect | nic) + messages * link_latency_us",
  "attention   = as other ops with attention_compute / attention_memory for compute / memory, and (src/timing/attention.ts)",
  "              compute_ms = FLOPs * padding / (peak * attention_compute) + exps / (sm_count * 3.9e12 / 132 per s)",
  "              exps = one per (query head, key) score; padding = MLA decode query rows to whole 64-row tiles",
  "```",
  "",
  "Without an `efficiency:` block (or with `--efficiency none`) every fraction is 1, every latency 0 and tiling is",
  "off: the peak-only roofline max(compute, memory), for speed-of-light questions."
].join("\n")

export const GENERAL_ASSUMPTIONS = [
  "- Kernel rows are predicted from their shapes alone with the op formulas the simulator uses (`linear`, grouped",
  "  GEMMs, `mla_attention_decode`, `gqa_attention_prefill`, `ep_all_to_all`, `collective`); nothing is fitted per",
  "  row or per shape.",
  "- The H800-SXM GEMM constants (compute, memory, kernel latency, tile) were fitted by `llmsim calibrate` on the 18",
  "  rows of the DeepGEMM dense table shown first below, so that table is an in-sample check; the grouped table, the",
  "  community rows, FlashMLA, FlashAttention-3, DeepEP, MAMF, NCCL and the DeepSeek system figures are out of",
  "  sample. H100-SXM memory and kernel latency were fitted on the 12 H100 community rows (DeepGEMM issue #136); its",
  "  compute fraction and tile come from the H800 fit (the same GH100 die). Link fractions and latencies are",
  "  published figures (sources in each hardware file). H200-SXM constants are the H800 fit (same die) or published",
  "  derates, as its file says. NV-A100, MI300X and B200 have only a compute fraction, fitted by `llmsim calibrate",
  "  --data mamf_matmul_measured.csv --fit compute` on their MAMF rows (the only GEMM data for them), so their MAMF",
  "  rows are in sample; their memory, latency and tile are `efficiency: none (no data)`. H20's compute, memory and",
  "  kernel latency were fitted on its 24 community rows (in sample; leave-one-out median 11.6%, p90 25.9%), with no",
  "  tile. H20 is not given the GH100 constants: its 296 FP8",
  "  TFLOPS are a chip-level cap (78 SMs at Hopper's per-SM rate would give about 1,170), so a wave of tiles does not",
  "  take sm_count tiles' worth of chip time there, and tiny-N GEMMs come out several times too slow under the tile",
  "  model.",
  "- Measured kernel times come from TFLOPS where a row gives them (t = FLOPs / TFLOPS under the source's FLOP",
  "  convention), else from the row's time. Community measurements are single runs on unstated clocks and drivers.",
  '- Hardware named without a form factor ("H100") is taken as SXM when its measured bandwidth exceeds the PCIe',
  "  card's 2.0 TB/s HBM; PCIe cards and parts without a hardware file are not modelled.",
  "- Attention kernels: softmax exponentials run on the special-function units at FA3's 3.9 TFLOPS for H100 SXM5",
  "  (arXiv 2407.08608) per 132 SMs, scaled by each part's SM count (assumed for every part: no per-part figure),",
  "  added to the tensor-core time (not overlapped). attention_compute / attention_memory were fitted by",
  "  `llmsim calibrate --attention` on the FlashMLA and FA3 rows of H800-SXM (2 rows, exact), H100-SXM (14) and",
  "  H20 (13), so those two tables are in-sample; their leave-one-out errors are in the hardware files (H100 median",
  "  5.9%, p90 10.7%; H20 1.1%, 4.3%; H800 none: two rows). Other parts use their GEMM fractions for attention.",
  "- Serving (the large-EP deployment model): a two-batch-overlap stage lasts its longer side plus (1 - e) of its",
  "  shorter side, e the hardware file's overlap_efficiency (docs/playbooks.md). H800's e = 0.644 was fitted by",
  "  `llmsim calibrate --overlap` on the two DeepSeek-V3 profile rows below, so those are in sample (leave-one-out",
  "  max 1.8%); the production decode average is out of sample. H100-SXM and H200-SXM borrow it (same GH100",
  "  die); the other GPUs keep e = 1 (no serving data).",
  "- Training kernels (kgrouped_wgrad rows on H200: DeepGEMM's k-grouped FP8 weight-gradient GEMM at the measured",
  "  commit) are timed as that kernel: FP8 A and B with 1x128 scales on both, an FP32 D read and written, one kernel",
  "  per group, and the 1D1D promotion's extra FMUL per accumulator per 128-K block on the CUDA cores at the H100/H200",
  "  datasheet FP32 rate (67 TFLOPS), not overlapped with the tensor cores. The tensor-core fraction is the inference",
  "  GEMM fit's (H800, borrowed: no H200 inference rows); nothing is fitted on these rows. They still come out about",
  "  27% fast: the rest of the kernel's slowdown (an epilogue that waits for its D tile, a 10-18% regression against",
  "  the same kernel's earlier release per the issue) is not modelled."
].join("\n")

/**
 * Which hardware file models a reference row's hardware, and the loaded hardware files.
 *
 * Reference rows name hardware loosely ("H800 SXM", "H100", "H200 (CUDA 12.4)", "NVIDIA H100
 * SXM"). A row maps to a file only when the part is unambiguous. "H100" without a form factor
 * maps to the SXM file: DeepGEMM and FlashMLA rows on it reach 2.3 to 2.8 TB/s, more than the
 * 2.0 TB/s HBM of the PCIe card (hardware_specs.yaml), so they ran on SXM parts. PCIe cards,
 * GH200, GB200, B300 and accelerators without a file are not mapped.
 */
import type { HardwareSpec } from "../schema/hardware.ts"

/** Base name of configs/hardware/<name>.yaml for a reference hardware label, or undefined. */
export const hardwareFileFor = (label: string): string | undefined => {
  const s = label.toUpperCase()
  // "SXM/PCIe not stated" names no form factor; the bandwidth argument above applies.
  const pcie = s.includes("PCIE") && !s.includes("NOT STATED")
  if (pcie || s.includes("GH200") || s.includes("GB200") || s.includes("B300")) return undefined
  if (s.includes("H800")) return "H800-SXM"
  if (s.includes("H200")) return "H200-SXM"
  if (s.includes("H100")) return "H100-SXM"
  if (/\bH20\b/.test(s)) return "H20"
  if (s.includes("B200")) return "B200"
  if (s.includes("A100") && s.includes("SXM")) return "NV-A100"
  if (s.includes("MI300X")) return "MI300X"
  return undefined
}

/** Hardware files by base name. */
export type HardwareSet = ReadonlyMap<string, HardwareSpec>

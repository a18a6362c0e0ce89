/**
 * Text helpers for accuracy reports and datasets: ASCII only, fixed number formats. They live
 * in src/base/format.ts with every other report format; these are the names accuracy uses.
 */
export { ascii, percent as pct, significant as fmt } from "../base/format.ts"

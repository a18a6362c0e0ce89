/**
 * src/report: every screen: the run screen and its layer table, the playbooks', diff's, accuracy's,
 * calibration's, watch's and sweep's screens, the HTML report and its charts.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { renderJson, renderMarkdown, renderText } from "./accuracy.ts"
export { renderBenchJson, renderBenchTable } from "./bench.ts"
export { renderBenchSweepJson, renderBenchSweepTable } from "./benchSweep.ts"
export { renderAttentionCalibration, renderCalibration, renderOverlapCalibration } from "./calibration.ts"
export { regressionLines, renderDiff, unfitLines } from "./diff.ts"
export { renderExportReadme } from "./export.ts"
export { unfitSummary } from "./fit.ts"
export { renderBenchHtml, renderDiffVisual, renderPlanHtml, renderRunHtml, renderRunVisual, renderSweepVisual, RUN_CHART_IDS } from "./html.ts"
export { type Listed, renderHardwareList, renderModelList, renderScenarioList } from "./list.ts"
export { renderPlanJson, renderPlanTable } from "./plan.ts"
export { renderAfd, renderAfdSweep, renderLargeEp, renderLargeEpSweep } from "./playbooks.ts"
export { renderRun } from "./run.ts"
export { renderServingMarkdown, renderServingText } from "./servingValidation.ts"
export { renderSweepJson, renderSweepTable } from "./sweep.ts"
export { renderTable } from "./table.ts"
export { makeReporter } from "./watchReporter.ts"

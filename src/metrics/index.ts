// The metrics of IVON.md §4 in one import.
export * from './classification.js';
export { auroc } from './auroc.js';
export { pairedAurocBootstrap, pairedBootstrap, type BootstrapOptions, type DifferenceInterval, type ReportDifference } from './bootstrap.js';

/** Every workflow the control worker registers. Each stage adds its export here. */
export { stackCheck } from './stack-check';
export { idleMonitor, idleSweep } from './idle';
export { fineTune } from './fine-tune';
export { prepareData, datasetBuild } from './prepare-data';
export { evaluate } from './evaluate';
export { deploy, rollbackEndpoint } from './deploy';
export { twinPipeline } from './pipeline';

/**
 * picklejar for Node: read and write Python pickle, joblib, .npy/.npz, torch and safetensors data.
 * Everything in core.ts (bytes in, bytes out) plus the functions that read and write files. Bundlers
 * that resolve the `browser` condition get browser.ts instead. Re-exports only.
 */
export * from './core.js';
export { load } from './load.js';
export { dump } from './pickle/dump-file.js';
export { dumpJoblib } from './joblib/write-file.js';
export { dumpTorch } from './torch/write-file.js';
export { convertTensorFile } from './containers/convert-file.js';

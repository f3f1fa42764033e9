/** Messages between the page (main.ts) and the decoding worker (worker.ts). */
import type { ScanReport, ShowNode } from '../../src/index.js';

export type Download = 'json' | 'jsonpickle' | 'safetensors';

export type ToWorker =
  | { readonly type: 'open'; readonly name: string; readonly bytes: ArrayBuffer }
  | { readonly type: 'download'; readonly format: Download };

export type FromWorker =
  | { readonly type: 'progress'; readonly stage: string; readonly step: number; readonly steps: number }
  | { readonly type: 'scan'; readonly report?: ScanReport; readonly error?: string }
  | {
      readonly type: 'tree';
      readonly tree: ShowNode;
      /** "pickle, 1.1 KiB, protocol 4; 1 array, 3 containers" */
      readonly summary: string;
      readonly downloads: readonly Download[];
    }
  | { readonly type: 'dis'; readonly text: string; readonly truncated: boolean }
  | { readonly type: 'error'; readonly stage: string; readonly message: string }
  | { readonly type: 'done'; readonly ms: number }
  | { readonly type: 'file'; readonly name: string; readonly mime: string; readonly data: Uint8Array }
  | { readonly type: 'file-error'; readonly format: Download; readonly message: string };

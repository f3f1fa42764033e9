/**
 * The torch family: decoding handlers (rebuild functions, storages, dtypes, Size, device, qschemes,
 * layouts, TorchScript helpers), the reducer that writes tensors as torch.save does, and the policy
 * rules for torch's names (docs/FORMATS.md §8).
 */
import { defineFamily, type Family, type PolicyRule } from '../family.js';
import { TORCH_HANDLERS } from './rebuild.js';
import { torchReducer, TORCH_SAFE_GLOBALS } from './reduce.js';

const RULES: PolicyRule[] = [
  ...TORCH_SAFE_GLOBALS.map((name): PolicyRule => ({
    name,
    severity: 'safe',
    reason: 'torch: a value torch.load(weights_only=True) accepts',
  })),
  // Names torch's weights_only loader refuses that exist to run code when loaded.
  { name: 'torch.load', severity: 'dangerous', reason: 'torch: loads another file (and runs its pickles)' },
  { name: 'torch.hub.*', severity: 'dangerous', reason: 'torch: downloads and imports code' },
  { name: 'torch.package.*', severity: 'dangerous', reason: 'torch: imports packaged Python source' },
  {
    name: 'torch.utils.cpp_extension.*',
    severity: 'dangerous',
    reason: 'torch: compiles and loads native code',
  },
  { name: 'torch.jit.load', severity: 'dangerous', reason: 'torch: loads another archive' },
  { name: 'torch.serialization.load', severity: 'dangerous', reason: 'torch: loads another file' },
];

/** The torch family (wired into loads/dumps/scan by the registry of families). */
export const TORCH_FAMILY: Family = defineFamily({
  name: 'torch',
  globals: TORCH_HANDLERS,
  reduce: torchReducer,
  rules: RULES,
});

/**
 * What a tensor container is, from its structure alone (no tensor is read): torch.save zip archives,
 * TorchScript archives, legacy torch files, .npz archives and safetensors files, with the hints
 * `show` prints on its first line (archive layout, torch era, protocol, byte order, counts).
 */
import { isSafetensors } from '../containers/safetensors.js';
import { isLegacyTorch, picklesIn, sniffZip } from '../containers/torch-archive.js';
import { ZipReader, isZip } from '../containers/zip.js';
import { MemorySource, type ByteSource } from '../bytes/source.js';
import { DEFAULT_LIMITS } from '../unpickle/options.js';
import { loads } from '../load.js';
import { formatSize } from './read.js';

/** The tensor container formats. */
export type TensorContainer = 'torch' | 'torchscript' | 'legacy-torch' | 'npz' | 'safetensors';

function protocolText(pkl: Uint8Array | undefined): string {
  if (pkl === undefined) return 'protocol ?';
  return pkl.length >= 2 && pkl[0] === 0x80 ? `protocol ${pkl[1]}` : 'protocol 0/1';
}

function entryText(zip: ZipReader, name: string, max = 64): string | undefined {
  const e = zip.get(name);
  if (!e || e.size > max) return undefined;
  try {
    return new TextDecoder().decode(zip.read(e, max)).trim();
  } catch {
    return undefined;
  }
}

/**
 * The container `input` is (bytes, or a file read by position: only the archive's directory and
 * small entries are read) and the parts of its description, or undefined for other input (plain
 * pickles, joblib, .npy, and zips picklejar refuses: decoding says why).
 * @example
 * tensorContainerInfo(bytes) // { format: 'torch', parts: ['torch.save zip archive', '2.5 KiB', …] }
 */
export function tensorContainerInfo(
  input: Uint8Array | ByteSource,
): { format: TensorContainer; parts: string[]; protocol: number | undefined } | undefined {
  const src: ByteSource = input instanceof Uint8Array ? new MemorySource(input) : input;
  const size = formatSize(src.size);
  try {
    const data = src.read(0, Math.min(src.size, 1 << 16));
    if (isSafetensors(data, src.size)) {
      const n = Number(new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true));
      return {
        format: 'safetensors',
        parts: ['safetensors file', size, `${formatSize(n)} JSON header`],
        protocol: undefined,
      };
    }
    if (isZip(data)) {
      const zip = ZipReader.open(src);
      const { kind, prefix } = sniffZip(zip);
      if (kind === 'npz') {
        const deflated = zip.entries.some((e) => e.method === 8);
        return {
          format: 'npz',
          parts: [`.npz archive (${deflated ? 'np.savez_compressed' : 'np.savez'})`, size],
          protocol: undefined,
        };
      }
      if (kind !== 'torch' && kind !== 'torchscript') return undefined;
      const pkl = zip.get(`${prefix}/data.pkl`);
      const head = pkl ? zip.source.read(zip.dataOffset(pkl), Math.min(2, pkl.size)) : undefined;
      const parts = [
        kind === 'torch' ? 'torch.save zip archive' : 'TorchScript archive (torch.jit.save)',
        size,
        `folder ${prefix}/`,
      ];
      const version = entryText(zip, `${prefix}/version`);
      if (version !== undefined) parts.push(`version ${version}`);
      const order = entryText(zip, `${prefix}/byteorder`);
      parts.push(
        order !== undefined ? `byteorder ${order} (torch ≥ 2.1)` : 'no byteorder entry (torch 1.6–2.0)',
      );
      const fmt = entryText(zip, `${prefix}/.format_version`);
      if (fmt !== undefined) parts.push(`format_version ${fmt}`);
      if (kind === 'torchscript') {
        const code = zip.entries.filter(
          (e) => e.name.startsWith(`${prefix}/code/`) && e.name.endsWith('.py'),
        ).length;
        parts.push(`${code} code file${code === 1 ? '' : 's'}`);
      }
      parts.push(`data.pkl ${protocolText(head)}`);
      return { format: kind, parts, protocol: head && head[0] === 0x80 ? head[1] : undefined };
    }
    if (isLegacyTorch(data)) {
      const parts = ['legacy torch file (pre-1.6 layout)', size];
      // Legacy files are read whole by the decoder too (under limits.maxInputBytes).
      if (src.size > DEFAULT_LIMITS.maxInputBytes) return undefined;
      const pickles = [...picklesIn(src.read(0, src.size))];
      const object = pickles.find((p) => p.name === 'legacy:object')?.bytes;
      parts.push(protocolText(object));
      const info = pickles.find((p) => p.name === 'legacy:sys_info')?.bytes;
      const sys = info ? (loads(info) as Record<string, unknown> | Map<string, unknown>) : undefined;
      const little = sys instanceof Map ? sys.get('little_endian') : sys?.['little_endian'];
      if (little === false) parts.push('written on a big-endian machine');
      return {
        format: 'legacy-torch',
        parts,
        protocol: object && object[0] === 0x80 ? object[1] : undefined,
      };
    }
  } catch {
    return undefined; // decoding reports what is wrong
  }
  return undefined;
}

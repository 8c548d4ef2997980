// Writes test/fixtures/ivon-torch-export.safetensors byte for byte as tools/export_ivon_torch.py
// (through safetensors.torch.save_file) would for the state in test/fixtures/torch-state.ts, since
// torch is not installed here. It deliberately does not use src/checkpoint's encoder, so the
// interop test checks our reader against an independent writer. Layout of save_file: tensors
// sorted by name (all F32), header {"__metadata__": ..., tensors in data order} with compact
// JSON, padded with spaces to a multiple of 8; metadata values are Python json.dumps text
// (separators (",", ":"), floats like 1.0). Run: npx tsx tools/make-fixtures.ts

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TORCH_STATE } from '../test/fixtures/torch-state.js';

export const TORCH_FIXTURE_PATH = fileURLToPath(new URL('../test/fixtures/ivon-torch-export.safetensors', import.meta.url));

/** Python's json.dumps spelling of a float: always a decimal point or exponent ("1.0", "0.0001"). */
function pyFloat(x: number): string {
  if (x === Infinity) return '"Infinity"'; // export_ivon_torch.py's _number() turns inf into this string
  const text = String(x);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

function groupsJson(): string {
  const groups = TORCH_STATE.groups.map((g) => {
    const hyper = [
      `"lr":${pyFloat(g.lr)}`,
      `"ess":${pyFloat(g.ess)}`,
      `"hessInit":${pyFloat(g.hess_init)}`,
      `"weightDecay":${pyFloat(g.weight_decay)}`,
      `"beta1":${pyFloat(g.beta1)}`,
      `"beta2":${pyFloat(g.beta2)}`,
      `"clipRadius":${pyFloat(g.clip_radius)}`,
    ].join(',');
    return `{"params":[${g.params.map((p) => `"${p.name}"`).join(',')}],"hyper":{${hyper}}}`;
  });
  return `[${groups.join(',')}]`;
}

export function buildTorchExportFixture(): Uint8Array {
  // What export_ivon() puts in its `tensors` dict: weights, and slices of the flat group vectors.
  const tensors = new Map<string, { shape: number[]; values: number[] }>();
  for (const g of TORCH_STATE.groups) {
    let offset = 0;
    for (const p of g.params) {
      const count = p.weight.length;
      tensors.set(`${p.name}.mean`, { shape: p.shape, values: p.weight });
      tensors.set(`${p.name}.hess`, { shape: p.shape, values: g.hess.slice(offset, offset + count) });
      tensors.set(`${p.name}.momentum`, { shape: p.shape, values: g.momentum.slice(offset, offset + count) });
      offset += count;
    }
  }
  const s = TORCH_STATE;
  // Rust's HashMap gives the metadata keys no particular order; this one differs from ours on purpose.
  const metadata: [string, string][] = [
    ['groups', groupsJson()],
    ['optimizer', 'ivon'],
    ['rng', '{"seed":0,"predictDraws":0}'],
    ['format_version', '1'],
    ['step', String(s.current_step)],
    ['options', `{"mcSamples":${s.mc_samples},"hessApprox":"${s.hess_approx}","debias":${s.debias},"rescaleLr":${s.rescale_lr},"seed":0,"nonFinite":"error"}`],
    ['skipped_steps', '0'],
    ['format', 'ivon-edge.checkpoint'],
  ];
  const names = [...tensors.keys()].sort();
  const entries: string[] = [`"__metadata__":{${metadata.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const end = offset + t.values.length * 4;
    entries.push(`"${name}":{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  let header = `{${entries.join(',')}}`;
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const out = new Uint8Array(8 + header.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(header.length), true);
  out.set(new TextEncoder().encode(header), 8);
  let at = 8 + header.length;
  for (const name of names) {
    for (const v of tensors.get(name)!.values) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TORCH_FIXTURE_PATH, buildTorchExportFixture());
  console.log(`wrote ${TORCH_FIXTURE_PATH}`);
}

// A small ONNX graph builder over onnx-proto: named nodes, initializers and typed graph inputs/outputs.
// Weight storage is a per-build choice (fp32, fp16 stored + Cast, int8 per-channel + DequantizeLinear) so the same
// model-building code produces every export variant.
import onnxProto from 'onnx-proto';
import { f32ToF16 } from '@duet/model-format';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export const OPSET = 17;

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'bool';
const ELEM: Record<ElemType, number> = {
  float32: DT.FLOAT, float16: DT.FLOAT16, int64: DT.INT64, int32: DT.INT32, int8: DT.INT8, bool: DT.BOOL,
};

/** How float weights are stored: fp32 as is, fp16 (cast to fp32 at load), or int8 per-channel (dequantised at load). */
export type WeightFormat = 'fp32' | 'fp16' | 'int8';

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };


export function toFloat16Bits(a: Float32Array): Uint16Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f32ToF16(a[i]!);
  return out;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly weightFormat: WeightFormat = 'fp32', readonly name = 'duet') {}

  private fresh(hint: string): string {
    let n = `${hint}_${this.counter++}`;
    while (this.used.has(n)) n = `${hint}_${this.counter++}`;
    this.used.add(n);
    return n;
  }

  input(name: string, type: ElemType, dims: (number | string)[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` as a graph output called `name` (via Identity so any value can be renamed). */
  output(value: string, name: string, type: ElemType, dims: (number | string)[]): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A raw initializer (no storage conversion). */
  tensor(hint: string, type: ElemType, dims: number[], data: ArrayBufferView): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dataType: ELEM[type], dims, rawData: bytesOf(data) });
    return name;
  }

  constF(values: number[] | Float32Array, dims: number[] = [values.length], hint = 'c'): string {
    return this.tensor(hint, 'float32', dims, Float32Array.from(values));
  }

  constI64(values: number[], dims: number[] = [values.length], hint = 'c'): string {
    return this.tensor(hint, 'int64', dims, BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /**
   * A float weight in the build's storage format. `channelAxis` is the axis that keeps its own int8 scale
   * (the output channel); weights too small to matter stay fp32 in the int8 format.
   */
  weight(hint: string, data: Float32Array, dims: number[], channelAxis = dims.length - 1): string {
    const n = data.length;
    if (this.weightFormat === 'fp16') {
      const w = this.tensor(hint, 'float16', dims, toFloat16Bits(data));
      return this.op('Cast', [w], { to: DT.FLOAT });
    }
    if (this.weightFormat === 'int8' && dims.length >= 2 && n >= 1024) {
      const { q, scales } = quantizePerChannel(data, dims, channelAxis);
      const qn = this.tensor(hint, 'int8', dims, q);
      const s = this.tensor(`${hint}_scale`, 'float32', [scales.length], scales);
      const z = this.tensor(`${hint}_zp`, 'int8', [scales.length], new Int8Array(scales.length));
      return this.op('DequantizeLinear', [qn, s, z], { axis: channelAxis });
    }
    return this.tensor(hint, 'float32', dims, data);
  }

  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string {
    return this.opN(type, inputs, attrs, outputs)[0]!;
  }

  opN(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(type.toLowerCase()));
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push({ opType: type, input: inputs, output: outs, name: this.fresh(`n_${type}`), attribute });
    return outs;
  }

  toBytes(docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'duet',
      producerVersion: '0.1.0',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attr(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if ('float' in v) return { name, type: AT.FLOAT, f: v.float };
  return { name, type: AT.FLOATS, floats: v.floats };
}

function valueInfo(name: string, type: ElemType, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[type], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Symmetric int8 quantisation with one scale per index of `axis` (zero point 0). */
export function quantizePerChannel(data: Float32Array, dims: number[], axis: number): { q: Int8Array; scales: Float32Array } {
  const c = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(c);
  for (let i = 0; i < data.length; i++) {
    const ch = Math.floor(i / inner) % c;
    const a = Math.abs(data[i]!);
    if (a > scales[ch]!) scales[ch] = a;
  }
  for (let ch = 0; ch < c; ch++) scales[ch] = scales[ch]! > 0 ? scales[ch]! / 127 : 1;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const ch = Math.floor(i / inner) % c;
    q[i] = Math.max(-127, Math.min(127, Math.round(data[i]! / scales[ch]!)));
  }
  return { q, scales };
}

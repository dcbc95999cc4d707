// A tiny WebAssembly binary encoder: just enough opcodes to emit the SIMD matmul kernels of kernels-wasm-code.ts.
// No wabt/assemblyscript is installed, so the module is assembled from bytes at load time; this keeps the kernel
// source readable (and reviewable) instead of committing an opaque binary blob.

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** unsigned LEB128 */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** signed LEB128 (32-bit) */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function utf8(s: string): number[] {
  return [...new TextEncoder().encode(s)];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Builds one function body: straight-line emitters for the opcodes the kernels use. */
export class FnBuilder {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  constructor(readonly nParams: number) {}

  /** declares a new local of the given type and returns its index */
  local(type: number): number {
    this.localTypes.push(type);
    return this.nParams + this.localTypes.length - 1;
  }

  get(i: number): this { return this.op(0x20, ...uleb(i)); }
  set(i: number): this { return this.op(0x21, ...uleb(i)); }
  tee(i: number): this { return this.op(0x22, ...uleb(i)); }
  i32(n: number): this { return this.op(0x41, ...sleb(n)); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32Shl(): this { return this.op(0x74); }
  i32LtU(): this { return this.op(0x49); }
  i32Eqz(): this { return this.op(0x45); }
  f32Add(): this { return this.op(0x92); }
  f32Div(): this { return this.op(0x95); }
  f32Max(): this { return this.op(0x97); }
  f32(x: number): this {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(0x43, ...b);
  }
  /** f32.store with a constant byte offset added to the address on the stack */
  f32Store(offset: number): this { return this.op(0x38, 2, ...uleb(offset)); }
  f32Load(offset: number): this { return this.op(0x2a, 2, ...uleb(offset)); }
  v128Load(offset: number): this { return this.simd(0x00, 4, ...uleb(offset)); }
  /** one f32 from memory into all four lanes */
  v128Load32Splat(offset: number): this { return this.simd(0x09, 2, ...uleb(offset)); }
  v128Zero(): this { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  /** a v128 constant with n in all four i32 lanes */
  v128I32x4(n: number): this {
    const lane = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
    return this.simd(0x0c, ...lane, ...lane, ...lane, ...lane);
  }
  v128Store(offset: number): this { return this.simd(0x0b, 4, ...uleb(offset)); }
  v128And(): this { return this.simd(0x4e); }
  v128Or(): this { return this.simd(0x50); }
  i32x4Eq(): this { return this.simd(0x37); }
  i32x4ExtendLowI16x8S(): this { return this.simd(0xa7); }
  i32x4ExtendHighI16x8S(): this { return this.simd(0xa8); }
  i32x4ExtendLowI16x8U(): this { return this.simd(0xa9); }
  i32x4ExtendHighI16x8U(): this { return this.simd(0xaa); }
  /** shift every i32 lane left by the i32 on top of the stack */
  i32x4Shl(): this { return this.simd(0xab); }
  f32x4Splat(): this { return this.simd(0x13); }
  /** a v128 constant with the float x in all four lanes */
  v128F32x4(x: number): this {
    const lane = [...new Uint8Array(new Float32Array([x]).buffer)];
    return this.simd(0x0c, ...lane, ...lane, ...lane, ...lane);
  }
  f32x4Ge(): this { return this.simd(0x46); }
  f32x4Nearest(): this { return this.simd(0x6a); }
  i32x4TruncSatF32x4S(): this { return this.simd(0xf8); }
  i32x4Add(): this { return this.simd(0xae); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Min(): this { return this.simd(0xe8); }
  f32x4Max(): this { return this.simd(0xe9); }
  f32x4Mul(): this { return this.simd(0xe6); }
  /**
   * relaxed SIMD's f32x4.relaxed_madd(a, b, c) = a * b + c, fused or not as the hardware does it (one rounding with
   * FMA3 on x64 and on ARM64); validates only where the runtime has relaxed SIMD (kernels-wasm.ts detects it)
   */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }
  f32x4ExtractLane(lane: number): this { return this.simd(0x1f, lane); }
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }
  end(): this { return this.op(0x0b); }

  /** local[i] += n */
  addConst(i: number, n: number): this { return this.get(i).i32(n).i32Add().set(i); }

  encode(): number[] {
    const groups = this.localTypes.map((t) => [1, t]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }
}

export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  body: FnBuilder;
}

/**
 * A module with one shared memory (so views survive memory.grow) exported as "mem", and exported functions.
 * imported: the memory is not the module's own but imported as env.mem (threads instantiate over one memory).
 */
export function encodeModule(fns: WasmFunction[], memPages: { initial: number; maximum: number; imported?: boolean }): Uint8Array<ArrayBuffer> {
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  // limits flag 0x03 = shared memory with a maximum
  const limits = [0x03, ...uleb(memPages.initial), ...uleb(memPages.maximum)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...(memPages.imported ? section(2, vec([[...uleb(3), ...utf8('env'), ...uleb(3), ...utf8('mem'), 0x02, ...limits]])) : []),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...(memPages.imported ? [] : section(5, vec([limits]))),
    ...section(7, vec([
      [...uleb(3), ...utf8('mem'), 0x02, 0x00],
      ...fns.map((f, i) => [...uleb(f.name.length), ...utf8(f.name), 0x00, ...uleb(i)]),
    ])),
    ...section(10, vec(fns.map((f) => f.body.encode()))),
  ];
  return new Uint8Array(bytes);
}

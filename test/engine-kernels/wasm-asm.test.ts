import { describe, expect, it } from 'vitest';
import { sleb, uleb } from '../../src/core/engine/kernels-wasm-asm';
import { buildKernelModule, MUL_ADD } from '../../src/core/engine/kernels-wasm-code';

describe('the WebAssembly encoder', () => {
  it('encodes LEB128 as the spec examples do', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(65536)).toEqual([0x80, 0x80, 0x04]);
    expect(sleb(0)).toEqual([0]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('produces a module that validates and exports the memory and the tiles', () => {
    const bytes = buildKernelModule(MUL_ADD, [{ rows: 3, cols: 2 }]);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(names).toEqual(['mem', 'mm_2x4', 'mm_1x4', 'mm_1x8', 'mm_1x1', 'mm_2x1', 'mm_3x1', 'mm_4x1', 'mm_3x2', 'widen_f16', 'widen_bf16', 'mv_f16_1x4', 'mv_bf16_1x4', 'mv_f16_finite_1x4', ...[1, 2, 3, 4].flatMap((r) => ['f16', 'bf16', 'f16_finite'].map((k) => `mv_${k}_${r}x1`)), 'softmax_row', 'swiglu', 'pv_row']);
  });
});

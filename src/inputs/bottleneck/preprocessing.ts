/**
 * How a head's bottleneck becomes one tail's tensor: the manifest's `input.preprocessing` of a
 * tail. The head quantizes its last activation to uint8 codes (ONNX QuantizeLinear); a tail takes
 * them dequantized, `(code - zeroPoint) * scale`, as float32 of `shape`.
 */
import type { DeepReadonly, FromSchema } from '../../schema/index.js';

export const bottleneckPreprocessingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'shape', 'scale', 'zeroPoint'],
  properties: {
    type: { const: 'bottleneck' },
    // One example's bottleneck, without the batch dimension: one uint8 code per element.
    shape: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65536 }, minItems: 1, maxItems: 4 },
    // QuantizeLinear's y_scale and y_zero_point: value = (code - zeroPoint) * scale.
    scale: { type: 'number', exclusiveMinimum: 0 },
    zeroPoint: { type: 'integer', minimum: 0, maximum: 255 },
  },
} as const;

export type BottleneckPreprocessing = DeepReadonly<FromSchema<typeof bottleneckPreprocessingSchema>>;

/** Codes in one example's bottleneck of `shape` (one byte each). */
export function codesIn(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The float32 values of uint8 `codes`, as QuantizeLinear's inverse gives them: `(code - zeroPoint) * scale`. */
export function dequantize(codes: Uint8Array, prep: BottleneckPreprocessing): Float32Array {
  const values = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) values[i] = (codes[i]! - prep.zeroPoint) * prep.scale;
  return values;
}

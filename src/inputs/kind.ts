/**
 * What an input kind is (in the spirit of transformers.js's task registry): everything the service
 * knows about one kind of input lives in that kind's module, and nothing else switches on it. A
 * kind owns its preprocessing schema (the manifest's `input.preprocessing`), its wire decoding and
 * validation (a JSON field, raw uploads, an Open Inference Protocol tensor), the view its premodel
 * features are computed on, the features, the tensor each model is fed, and inputs for
 * warm-up. `bind` fixes all of that for one zoo, whose manifest says sizes, channels and rates: a
 * task of another image size or window length is data, not code.
 */
import { BadRequestError } from '../errors/index.js';
import type { DeepReadonly } from '../schema/index.js';

/** A decoded request input of some kind; only its kind's module looks inside. */
export interface Input {
  readonly kind: string;
}

/** What a request carries, before its task's kind decodes it. */
export type WireInput =
  /** `input.<field>` of a v1 JSON body (a base64 image, a nested window, ...), as parsed. */
  | { form: 'json'; field: string; value: unknown }
  /** A raw body with its media type (an image upload). */
  | { form: 'upload'; bytes: Uint8Array; mediaType: string }
  /**
   * An Open Inference Protocol tensor, flat and row-major, as a model of preprocessing `prep` takes
   * it (one example: the batch dimension left out): float32 for a kind whose tensor is numbers
   * (any numeric datatype, converted), uint8 for one whose tensor is codes (a head's bottleneck).
   */
  | { form: 'tensor'; data: Float32Array | Uint8Array; prep: PreprocessingBase };

/** The element type of a kind's Open Inference Protocol tensor (see `TaskInputs.tensorElement`). */
export type TensorElement = 'float32' | 'uint8';

/** The float32 data of a tensor wire input; 400 for uint8 codes, which only a kind of codes takes. */
export function float32Tensor(data: Float32Array | Uint8Array, kind: string): Float32Array {
  if (!(data instanceof Float32Array)) throw new BadRequestError(`a ${kind} tensor holds numbers (converted to FP32), not uint8 codes`);
  return data;
}

export interface DecodeLimits {
  /** Largest image, in pixels (width x height), checked from its header before any pixel is decoded. */
  maxPixels: number;
}

/** A preprocessing of the manifest: `type` names its kind. */
export interface PreprocessingBase {
  readonly type: string;
}

/** A kind bound to one zoo: every size, channel count and rate fixed from its manifest. */
export interface TaskInputs {
  readonly kind: string;
  /** The field of a v1 JSON body's `input` that carries it, and the media types it takes as raw uploads. */
  readonly jsonField: string;
  readonly uploadTypes: readonly string[];
  /** The names of the premodel's features for this zoo, in the order `features` returns them. */
  readonly featureNames: readonly string[];
  /** What a client sends and what the models take, for GET /v1/tasks. */
  readonly description: Readonly<Record<string, unknown>>;
  /** The name of the task's Open Inference Protocol input, and the preprocessing its tensor follows (the first model's). */
  readonly tensorName: string;
  readonly tensorPrep: PreprocessingBase;
  /**
   * What its tensor's elements are: float32 (the protocol's numeric datatypes, each converted), or
   * uint8 (UINT8 only, taken as it is: the quantized codes of a head's bottleneck).
   */
  readonly tensorElement: TensorElement;
  /** Decodes and checks what the request carried; a 4xx error of the catalogue when it cannot. */
  decode(wire: WireInput, limits: DecodeLimits): Promise<Input>;
  /** Work the decode stage finishes before the features (an image's pixels at the feature size). */
  prepare(input: Input): Promise<void>;
  features(input: Input): Promise<Float32Array>;
  /** The tensor of one example for a model of preprocessing `prep`, in its layout and scaling; of one of the kind's `views` of it. */
  modelTensor(input: Input, prep: PreprocessingBase, view?: string): Promise<Float32Array>;
  /**
   * The family of encodings clients send this kind in (inputs/image/encode.ts), by id; empty for a
   * kind that arrives as it is. Profiling and evaluation measure the zoo on them.
   */
  readonly clientEncodings: readonly string[];
  /** `input` as a client sends it: by default an image as a PNG upload, a window as JSON; or in one of `clientEncodings`. */
  asWire(input: Input, encoding?: string): Promise<WireInput>;
  /**
   * The group of requests `input` belongs to that calibration vouches for separately, from what the
   * decoder saw (an image's encoding bucket: inputs/image/observed.ts); undefined for a kind
   * without such groups.
   */
  groupOf(input: Input): string | undefined;
  /**
   * Synthetic inputs of the task's size with something in them, in each form clients send the
   * kind: they warm the request path up. Blank ones would not: a zero window or a black image
   * takes the decoders' and features' short ways, and the first real request compiled the rest.
   */
  warmUpInputs(): Promise<readonly WireInput[]>;
}

export interface InputKind<P extends PreprocessingBase = PreprocessingBase, S extends object = object> {
  /** The manifest's `kind` and the `type` of its preprocessings. */
  readonly name: string;
  /** The JSON schema of this kind's `input.preprocessing` in a manifest (P is derived from it). */
  readonly preprocessingSchema: S;
  /** The field of a v1 JSON body's `input` that carries this kind, and its JSON schema. */
  readonly jsonField: string;
  readonly jsonSchema: object;
  /** Media types this kind takes as a raw upload (none: JSON only). */
  readonly uploadTypes: readonly string[];
  /** Views of an input a model may be invariant to, for test-time augmentation (an image's mirror). */
  readonly views: readonly string[];
  /**
   * Whether inputs of this kind come out of a head (split computing): a request then names its
   * head (v1 `input.head`, v2 `parameters.head`), whose tails serve it.
   */
  readonly fromHead: boolean;
  /** The model input shape (batch left out) that `prep` asks for. */
  shapeOf(prep: DeepReadonly<P>): number[];
  /** What the schema cannot check of `prep` (fields that must agree with each other). */
  problems(prep: DeepReadonly<P>): string[];
  /** The kind for a zoo whose models take `preps` (the first model's sets the features and the v2 tensor). */
  bind(preps: readonly DeepReadonly<P>[]): TaskInputs;
}

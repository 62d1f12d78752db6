/**
 * How each input kind reads a team's model: from the graph's input dimensions (batch left out),
 * what the data showed and the team's hints, the preprocessing the manifest records, or the one
 * reason it cannot feed that graph. One entry per kind of the registry (inputs/registry.ts), keyed
 * by the data layout that brings it (datasets/folder.ts).
 */
import type { ImagePreprocessing } from '../../inputs/image/preprocessing.js';
import type { Preprocessing } from '../../inputs/registry.js';
import type { WindowPreprocessing } from '../../inputs/window/preprocessing.js';
import type { FolderFormat, ScannedData } from '../datasets/folder.js';
import type { PreprocessingHints } from './spec.js';

export type Dims = readonly (number | string)[];

export interface KindImporter {
  /** The registry's kind that data of this layout is. */
  readonly kind: string;
  preprocessing(dims: Dims, hints: PreprocessingHints, sample: ScannedData['sample']): Preprocessing | string;
}

const fixed = (d: number | string | undefined): number | undefined => (typeof d === 'number' ? d : undefined);
const shown = (dims: Dims) => `[${dims.join(', ')}]`;

/** A per-channel value list of `channels` entries; one value stands for every channel. */
function perChannel(values: readonly number[] | undefined, fallback: number, channels: number, name: string): number[] | string {
  if (values === undefined) return Array(channels).fill(fallback);
  if (values.length === 1) return Array(channels).fill(values[0]);
  return values.length === channels ? [...values] : `${name} has ${values.length} values for ${channels} channels`;
}

const imageImporter: KindImporter = {
  kind: 'image',
  preprocessing(dims, hints, sample): ImagePreprocessing | string {
    const imageLayouts = ['nchw', 'nhwc', 'flat'];
    if (hints.layout !== undefined && !imageLayouts.includes(hints.layout)) return `layout "${hints.layout}" is not an image layout (${imageLayouts.join(', ')})`;
    const channelsAt = (i: number) => fixed(dims[i]) === 1 || fixed(dims[i]) === 3;
    const layout =
      dims.length === 1 ? 'flat'
      : dims.length !== 3 ? undefined
      : hints.layout ?? (channelsAt(0) ? 'nchw' : channelsAt(2) ? 'nhwc' : undefined);
    if (layout === undefined || (layout === 'flat') !== (dims.length === 1)) {
      return `input ${shown(dims)} (after the batch) is not an image input: [channels, height, width], [height, width, channels] (1 or 3 channels) or a flat [channels * height * width]`;
    }
    let width: number | undefined;
    let height: number | undefined;
    let channels: number | undefined;
    if (layout === 'flat') {
      const size = fixed(dims[0]);
      if (size === undefined) return `flat input ${shown(dims)} has no fixed size`;
      width = hints.width ?? ('width' in sample ? sample.width : undefined);
      height = hints.height ?? ('height' in sample ? sample.height : undefined);
      if (width === undefined || height === undefined) return `flat input ${shown(dims)}: give the image size (--image-size WxH)`;
      channels = size === width * height ? 1 : size === 3 * width * height ? 3 : undefined;
      if (channels === undefined) return `flat input of ${size} values is not ${width}x${height} pixels of 1 or 3 channels: give the image size (--image-size WxH)`;
    } else {
      const [c, h, w] = layout === 'nchw' ? [0, 1, 2] : [2, 0, 1];
      channels = fixed(dims[c]);
      height = fixed(dims[h]) ?? hints.height;
      width = fixed(dims[w]) ?? hints.width;
      if (channels !== 1 && channels !== 3) return `input ${shown(dims)} (${layout}) has ${dims[c]} channels; images have 1 or 3`;
      if (width === undefined || height === undefined) return `input ${shown(dims)} leaves the image size open: give it (--image-size WxH)`;
      if ((hints.width !== undefined && hints.width !== width) || (hints.height !== undefined && hints.height !== height)) {
        return `the image size given, ${hints.width ?? width}x${hints.height ?? height}, is not the graph's ${width}x${height}`;
      }
    }
    const mean = perChannel(hints.mean, 0, channels, 'mean');
    const std = perChannel(hints.std, 1, channels, 'std');
    if (typeof mean === 'string') return mean;
    if (typeof std === 'string') return std;
    return {
      type: 'image',
      width,
      height,
      channels: channels as 1 | 3,
      // Centre-cropped to the model's aspect ratio, as torchvision's Resize + CenterCrop does.
      fit: hints.fit ?? 'cover',
      background: hints.background ?? 0,
      mean,
      std,
      ...(layout === 'nchw' ? {} : { layout: layout as ImagePreprocessing['layout'] }),
    };
  },
};

const windowImporter: KindImporter = {
  kind: 'window',
  preprocessing(dims, hints, sample): WindowPreprocessing | string {
    const windowLayouts = ['time-major', 'channels-first', 'flat'];
    if (hints.layout !== undefined && !windowLayouts.includes(hints.layout)) return `layout "${hints.layout}" is not a window layout (${windowLayouts.join(', ')})`;
    const { length, channels } = sample as { length: number; channels: number };
    const fits = (d: number | string | undefined, n: number) => d !== undefined && (typeof d === 'string' || d === n);
    const timeMajor = dims.length === 2 && fits(dims[0], length) && fits(dims[1], channels);
    const channelsFirst = dims.length === 2 && fits(dims[0], channels) && fits(dims[1], length);
    const flat = dims.length === 1 && fits(dims[0], length * channels);
    // A square window reads either way: samples by channels, unless the team says otherwise.
    const layout = hints.layout ?? (flat ? 'flat' : timeMajor ? 'time-major' : channelsFirst ? 'channels-first' : undefined);
    const matches = { 'time-major': timeMajor, 'channels-first': channelsFirst, flat } as Record<string, boolean>;
    if (layout === undefined || matches[layout] !== true) {
      return `input ${shown(dims)} (after the batch) does not take the data's windows of ${length} samples x ${channels} channels: ` +
        `[${length}, ${channels}], [${channels}, ${length}] or [${length * channels}]`;
    }
    if (hints.sampleRateHz === undefined) return 'windows need the rate they were sampled at: --sample-rate HZ, or preprocessing.sampleRateHz in zoo.json';
    const channelNames = hints.channelNames ?? Array.from({ length: channels }, (_, c) => `channel_${c}`);
    if (channelNames.length !== channels) return `channelNames has ${channelNames.length} names for ${channels} channels`;
    return {
      type: 'window',
      length,
      channels,
      channelNames,
      sampleRateHz: hints.sampleRateHz,
      ...(layout === 'time-major' ? {} : { layout: layout as WindowPreprocessing['layout'] }),
    };
  },
};

export const KIND_IMPORTERS: Readonly<Record<FolderFormat, KindImporter>> = Object.freeze({ image: imageImporter, window: windowImporter });

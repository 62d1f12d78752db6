/**
 * What a V8 CPU profile (the `.cpuprofile` of DevTools, node --cpu-prof or the inspector) says of
 * where the time went: each sample's time given to the owner of its stack (the models, express,
 * node's HTTP, the service's own modules by folder, ...) and to the function it was in.
 */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The service's own modules under `path` (a folder or file pattern), as tsx runs them (src/) or compiled (dist/). */
const own = (path: string) => new RegExp(`^file://(?!.*/node_modules/).*/(src|dist)/${path}`);

/** Who owns a frame, by where its code lives: the first rule that matches, innermost frame first. */
const OWNERS: readonly [string, RegExp][] = [
  ['models (onnxruntime)', /onnxruntime-node/],
  ['models (onnxruntime)', own('zoo/onnx\\.[jt]s')],
  ['decoding (sharp)', /node_modules\/sharp\//],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|thread-stream)/],
  ['metrics (prom-client)', /node_modules\/prom-client/],
  ['metrics (prom-client)', own('metrics/')],
  ['validation (ajv)', /node_modules\/ajv/],
  ['express and its middleware', /node_modules\/(express|router|body-parser|raw-body|type-is|content-type|finalhandler|on-finished|qs|send|serve-static|iconv-lite|media-typer|mime-types|accepts|negotiator|depd|statuses|http-errors|parseurl|encodeurl|escape-html|fresh|etag|cookie|vary|proxy-addr|forwarded|ipaddr\.js|content-disposition|merge-descriptors|range-parser|path-to-regexp|debug|ms|bytes|setprototypeof|inherits|unpipe|destroy|ee-first|safe-buffer)\//],
  ["node's HTTP, streams and sockets", /^node:(_http|http|net|stream|internal\/(http|streams|stream_base|net|timers|process\/task_queues|async_hooks|event_target|url|errors|util|buffer|validators|perf))|^node:events|^node:buffer|^node:url/],
  ['inputs (decoding, features, tensors)', own('inputs/')],
  ['premodel and policy', own('(premodel|select)/')],
  ['feedback and quality', own('(feedback|quality)/')],
  ['request stages and latency', own('serve/')],
  ['HTTP adapters', own('http/')],
  ['other JavaScript', /./],
];
const BUILTINS: readonly [string, RegExp][] = [
  ['JSON', /^(parse|stringify|JSONParse|JSONStringify)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['V8 and native, unattributed', /^\(program\)$/],
];

function ownerOf(stack: readonly CallFrame[]): string {
  const leaf = stack[stack.length - 1]!;
  for (const [owner, name] of BUILTINS) if (leaf.url === '' && name.test(leaf.functionName)) return owner;
  // A native leaf (a binding's method, a builtin) is its nearest JavaScript caller's.
  for (let i = stack.length - 1; i >= 0; i--) {
    const url = stack[i]!.url;
    if (url === '') continue;
    for (const [owner, where] of OWNERS) if (where.test(url)) return owner;
  }
  return 'other JavaScript';
}

/** Where a frame's code is, from the repository's root: node_modules/ajv/dist/..., src/http/..., dist/http/... */
function placeOf(url: string): string {
  const under = url.includes('/node_modules/') ? /^.*\/(node_modules)\// : /^.*\/(src|dist|scripts)\//;
  return url.replace(under, '$1/').replace(/^file:\/\//, '');
}

function frameName(frame: CallFrame): string {
  const where = frame.url === '' ? '(native)' : `${placeOf(frame.url)}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'} ${where}`;
}

export interface ProfileSummary {
  /** Profiled CPU time, idle left out, in ms. */
  busyMs: number;
  byOwnerMs: Record<string, number>;
  topSelfMs: [string, number][];
}

export function summariseProfile(profile: CpuProfile, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = new Map<number, CallFrame[]>();
  const stack = (id: number): CallFrame[] => {
    let frames = stackOf.get(id);
    if (frames === undefined) {
      const up = parent.get(id);
      frames = [...(up === undefined ? [] : stack(up)), byId.get(id)!.callFrame];
      stackOf.set(id, frames);
    }
    return frames;
  };
  const byOwner = new Map<string, number>();
  const bySelf = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frames = stack(id);
    const leaf = frames[frames.length - 1]!;
    if (leaf.functionName === '(idle)' || leaf.functionName === '(root)') return;
    busyUs += us;
    const owner = ownerOf(frames);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
    const name = frameName(leaf);
    bySelf.set(name, (bySelf.get(name) ?? 0) + us);
  });
  const ms = (entries: Iterable<[string, number]>) => [...entries].sort((a, b) => b[1] - a[1]).map(([k, us]): [string, number] => [k, us / 1000]);
  return { busyMs: busyUs / 1000, byOwnerMs: Object.fromEntries(ms(byOwner)), topSelfMs: ms(bySelf).slice(0, top) };
}

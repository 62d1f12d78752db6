/**
 * A zlib stream inflated into a buffer of the size it must have, by one inflater kept for the
 * process. `inflateSync` builds a whole stream object (Transform, its states, a native zlib
 * context with its 32 KB window) for every call and closes it after: 20 us a 28x28 colour PNG
 * back to back, and 345 us after 20 ms of idle, code and memory gone cold, where the kept
 * inflater, reset between streams, takes 7 and 43 us (`npm run bench:decode`). That was most of a
 * small PNG's decoding on a service answering one request at a time.
 *
 * The kept inflater writes through node's zlib handle as `inflateSync` itself does (its
 * `_handle.writeSync` and `_writeState`, node's own, not its documented API): where a version of
 * node lacks them, or inflates a probe stream otherwise than `inflateSync` (checked at load),
 * every stream goes through `inflateSync`. A stream that fails (a damaged one) destroys the
 * inflater, and the next stream gets a fresh one.
 */
import { constants, deflateSync, Inflate, inflateSync } from 'node:zlib';

interface Handle {
  reset(): void;
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void;
}

interface Kept {
  stream: Inflate;
  handle: Handle;
  /** After a write: the output bytes left, then the input bytes left. */
  state: Uint32Array;
}

/** A stream of `make` with the handle this module writes through; undefined where it has none of that shape. */
function keep(make: () => Inflate): Kept | undefined {
  const stream = make();
  const { _handle: handle, _writeState: state } = stream as unknown as { _handle?: Partial<Handle>; _writeState?: unknown };
  if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
    stream.close();
    return undefined;
  }
  // A failed write destroys the stream, which then emits its error: heard here, seen as `destroyed`.
  stream.on('error', () => undefined);
  return { stream, handle: handle as Handle, state };
}

/** A stream of known bytes: the kept inflater is used only where it inflates them as `inflateSync` does. */
const PROBE = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 13));

/** The kept inflater over streams of `make`, where it inflates the probe as `inflateSync` does; else undefined. */
function keptInflater(make: () => Inflate): Inflater | undefined {
  let kept = keep(make);
  if (kept === undefined) return undefined;
  const inflate: Inflater = (compressed, size) => {
    const inflater = (kept ??= keep(make)!);
    const out = Buffer.allocUnsafe(size + 1);
    inflater.handle.reset();
    inflater.handle.writeSync(constants.Z_FINISH, compressed, 0, compressed.length, out, 0, out.length);
    if (inflater.stream.destroyed) {
      kept = undefined;
      return undefined;
    }
    return out.length - inflater.state[0]! === size ? out.subarray(0, size) : undefined;
  };
  try {
    if (inflate(deflateSync(PROBE), PROBE.length)?.equals(PROBE) === true) return inflate;
  } catch {
    // a handle of another shape
  }
  kept?.stream.close();
  return undefined;
}

/**
 * The `size` bytes that a zlib stream inflates to, or undefined when it does not inflate to
 * exactly that many (more, fewer, or a damaged stream), as `inflateSync` would say.
 */
export type Inflater = (compressed: Uint8Array, size: number) => Buffer | undefined;

/** The kept inflater over streams of `make` (node's Inflate by default) where it passes the probe, else `inflateOnce`. */
export function inflaterFor(make: () => Inflate = () => new Inflate()): Inflater {
  return keptInflater(make) ?? inflateOnce;
}

/** What a PNG's decoder inflates its stream with: chosen once, at load. */
export const inflateExactly: Inflater = inflaterFor();

/** The same through `inflateSync`, bounded: a stream that inflates past `size` is not this one. */
export function inflateOnce(compressed: Uint8Array, size: number): Buffer | undefined {
  try {
    const out = inflateSync(compressed, { maxOutputLength: size + 1 });
    return out.length === size ? out : undefined;
  } catch {
    return undefined;
  }
}

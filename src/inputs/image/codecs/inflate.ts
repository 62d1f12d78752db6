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

function keep(): Kept | undefined {
  const stream = new Inflate();
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

let kept = keep();
const usable = kept !== undefined && probeInflates();

function probeInflates(): boolean {
  try {
    return inflateKept(deflateSync(PROBE), PROBE.length)?.equals(PROBE) === true;
  } catch {
    return false; // a handle of another shape
  }
}

/**
 * The `size` bytes that the zlib stream `compressed` inflates to, or undefined when it does not
 * inflate to exactly that many (more, fewer, or a damaged stream), as `inflateSync` would say.
 */
export function inflateExactly(compressed: Uint8Array, size: number): Buffer | undefined {
  return usable ? inflateKept(compressed, size) : inflateOnce(compressed, size);
}

function inflateKept(compressed: Uint8Array, size: number): Buffer | undefined {
  const inflater = (kept ??= keep()!);
  const out = Buffer.allocUnsafe(size + 1);
  inflater.handle.reset();
  inflater.handle.writeSync(constants.Z_FINISH, compressed, 0, compressed.length, out, 0, out.length);
  if (inflater.stream.destroyed) {
    kept = undefined;
    return undefined;
  }
  return out.length - inflater.state[0]! === size ? out.subarray(0, size) : undefined;
}

/** The same through `inflateSync`, bounded: a stream that inflates past `size` is not this one. */
export function inflateOnce(compressed: Uint8Array, size: number): Buffer | undefined {
  try {
    const out = inflateSync(compressed, { maxOutputLength: size + 1 });
    return out.length === size ? out : undefined;
  } catch {
    return undefined;
  }
}

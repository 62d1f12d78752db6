import { expect } from 'chai';
import { deflateSync, Inflate, inflateSync } from 'node:zlib';
import { inflateExactly, inflaterFor, inflateOnce } from '../../../../src/inputs/image/codecs/inflate.js';

/** Bytes of some structure, so that deflate has matches and literals to code. */
function rows(size: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => ((i * seed) ^ (i >> 3) * 7 ^ (i % 29 === 0 ? 0 : seed)) & 255));
}

describe('inputs/image/codecs/inflate', () => {
  it("inflates streams of every size and level to inflateSync's bytes, stream after stream", () => {
    for (const size of [1, 28, 812, 5000, 70_000]) {
      for (const level of [0, 1, 6, 9]) {
        const plain = rows(size, size + level);
        const compressed = deflateSync(plain, { level });
        const inflated = inflateExactly(compressed, size);
        expect(inflated, `${size} bytes, level ${level}`).to.deep.equal(inflateSync(compressed));
        expect(inflated).to.deep.equal(plain);
      }
    }
  });

  it('refuses a stream that inflates to more or fewer bytes than asked, as inflateOnce does', () => {
    const compressed = deflateSync(rows(812, 3));
    for (const size of [811, 813, 100, 2000]) {
      expect(inflateExactly(compressed, size), String(size)).to.equal(undefined);
      expect(inflateOnce(compressed, size), String(size)).to.equal(undefined);
    }
    expect(inflateExactly(compressed, 812)).to.deep.equal(rows(812, 3));
  });

  it('refuses damaged streams and inflates the next one as if nothing had happened', () => {
    const plain = rows(812, 5);
    const compressed = deflateSync(plain);
    const damaged = [
      compressed.subarray(0, compressed.length - 3), // truncated: no checksum
      compressed.subarray(0, 40), // truncated mid-stream
      Buffer.concat([compressed.subarray(0, compressed.length - 1), Buffer.from([compressed.at(-1)! ^ 1])]), // wrong Adler-32
      Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff]), // an invalid block type
      Buffer.from('not zlib at all'),
    ];
    for (const [i, bytes] of damaged.entries()) {
      expect(inflateExactly(bytes, plain.length), `damaged ${i}`).to.equal(undefined);
      expect(inflateOnce(bytes, plain.length), `damaged ${i}`).to.equal(undefined);
      expect(inflateExactly(compressed, plain.length), `after damaged ${i}`).to.deep.equal(plain);
    }
  });

  it('ignores bytes after the end of the stream, as inflateSync does', () => {
    const plain = rows(812, 9);
    const trailing = Buffer.concat([deflateSync(plain), Buffer.from([1, 2, 3])]);
    expect(inflateExactly(trailing, plain.length)).to.deep.equal(plain);
    expect(inflateOnce(trailing, plain.length)).to.deep.equal(plain);
  });

  it('gives each stream a buffer of its own', () => {
    const first = inflateExactly(deflateSync(rows(64, 1)), 64)!;
    const second = inflateExactly(deflateSync(rows(64, 2)), 64)!;
    expect(first).to.deep.equal(rows(64, 1));
    expect(second).to.deep.equal(rows(64, 2));
  });

  describe('choosing the inflater, at load', () => {
    type Write = (...args: [number, Uint8Array, number, number, Uint8Array, number, number]) => void;
    /** Node's Inflate with its handle's write replaced by `write(real)`. */
    const withWrite = (write: (real: Write) => Write) => () => {
      const stream = new Inflate();
      const handle = (stream as unknown as { _handle: { writeSync: Write } })._handle;
      handle.writeSync = write(handle.writeSync.bind(handle));
      return stream;
    };
    const stream = rows(812, 5);
    const compressed = deflateSync(stream);

    it("keeps an inflater where node's handle is the one it writes through (node 20's)", function () {
      const probe = new Inflate();
      const handle = (probe as unknown as { _handle?: { writeSync?: unknown } })._handle;
      probe.close();
      // Another node's handle is the fallback's case, below.
      if (typeof handle?.writeSync !== 'function') this.skip();
      expect(inflaterFor()).to.not.equal(inflateOnce);
      expect(inflateExactly).to.not.equal(inflateOnce);
      expect(inflaterFor()(compressed, stream.length)?.equals(stream)).to.equal(true);
    });

    it('falls back to inflateSync where a node has no handle of that shape, where it inflates otherwise, or where it throws', () => {
      const noHandle = () => Object.assign(new Inflate(), { _handle: undefined });
      const wrongBytes = withWrite((real) => (...args) => {
        real(...args);
        args[4][0] = args[4][0]! ^ 1;
      });
      const throwing = withWrite(() => () => {
        throw new TypeError('not this handle');
      });
      for (const make of [noHandle, wrongBytes, throwing]) {
        const inflate = inflaterFor(make);
        expect(inflate).to.equal(inflateOnce);
        expect(inflate(compressed, stream.length)?.equals(stream)).to.equal(true);
      }
    });
  });
});

/**
 * A corpus of hostile and broken requests, each answered with the right 4xx and a clear JSON error
 * that shows nothing internal, after which the server still serves. Images are made here with sharp
 * (or, for headers no encoder writes, byte by byte), not committed. Odd but valid images (16-bit,
 * CMYK, alpha, animated) are served: clients send "any PNG, JPEG or WebP".
 */
import { readFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import { expect } from 'chai';
import sharp from 'sharp';
import {
  SAMPLE_PNG,
  expectError,
  expectV2Error,
  postBytes,
  postJson,
  request,
  serverPerSuite,
  validPredictBody,
  windowArray,
  windowShape,
  type Reply,
  type TestServer,
} from './server.js';

const MAX_BODY_BYTES = 256 * 1024;
const MAX_INPUT_PIXELS = 1024 * 1024;

/** A PNG chunk: length, type, data, CRC of type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A decompression bomb's header: a well-formed PNG that declares width x height, in a few bytes. */
function pngDeclaring(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample; the other fields (grey, deflate, no filter, no interlace) are 0
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', header), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A flat field of one colour, as a sharp pipeline to encode. */
function field(width: number, height: number, colour: string | sharp.RGBA, channels: 3 | 4 = 3): sharp.Sharp {
  return sharp({ create: { width, height, channels, background: colour } });
}

/** Posts `body` as it is, labelled JSON: for what JSON.stringify would not write. */
const postJsonText = (url: string, body: string, headers: Record<string, string> = {}): Promise<Reply> =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('http hostile input', function () {
  let srv: TestServer;
  let imageUrl: string;
  let windowUrl: string;
  let sample: Buffer;
  /** The window task's samples and channels. */
  let L: number;
  let C: number;
  serverPerSuite((server) => (srv = server), { maxBodyBytes: MAX_BODY_BYTES, maxInputPixels: MAX_INPUT_PIXELS });

  before(async function () {
    if (srv.imageTask === undefined || srv.windowTask === undefined) this.skip();
    imageUrl = `${srv.base}/v1/tasks/${srv.imageTask.task}/predict`;
    windowUrl = `${srv.base}/v1/tasks/${srv.windowTask.task}/predict`;
    sample = await readFile(SAMPLE_PNG);
    ({ length: L, channels: C } = windowShape(srv.windowTask));
  });

  afterEach(async function () {
    // Whatever a case sent, the server keeps serving.
    const ok = await postJson(windowUrl, await validPredictBody(srv.windowTask!));
    expect(ok.status, ok.text).to.equal(200);
  });

  describe('bodies', () => {
    it('400 for an empty body, with or without a content type', async () => {
      expectError(await request(windowUrl, { method: 'POST' }), 400, 'BAD_REQUEST', /no body/);
      expectError(await postBytes(imageUrl, Buffer.alloc(0), 'image/png'), 400, 'BAD_REQUEST', /no body/);
      expectError(await postJsonText(windowUrl, ''), 400, 'BAD_REQUEST', /no body/);
    });

    it('400 for malformed JSON, JSON literals NaN and Infinity, and JSON that is not an object', async () => {
      for (const body of ['{"input": ', '{"input":{"window":[[NaN]]}}', '{"input":{"window":[[Infinity]]}}', "{'input': 1}"]) {
        expectError(await postJsonText(windowUrl, body), 400, 'BAD_REQUEST', /not valid JSON/);
      }
      for (const body of ['null', '"text"', '42', 'true']) expectError(await postJsonText(windowUrl, body), 400, 'BAD_REQUEST', /must be a JSON object/);
      expectError(await postJsonText(windowUrl, '[]'), 400, 'BAD_REQUEST', /must be object/);
    });

    it('413 for a body over MAX_BODY_BYTES, sent plain or as a gzip bomb', async () => {
      const big = Buffer.alloc(MAX_BODY_BYTES + 1, 'x');
      expectError(await postBytes(imageUrl, big, 'image/png'), 413, 'PAYLOAD_TOO_LARGE', /MAX_BODY_BYTES/);
      expectError(await postJsonText(windowUrl, `"${big.toString()}"`), 413, 'PAYLOAD_TOO_LARGE', /MAX_BODY_BYTES/);
      // 5 MB of spaces squeezed into 5 kB: the limit holds for what the body inflates to.
      const bomb = zlib.gzipSync(Buffer.alloc(5e6, ' '));
      const r = await request(windowUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
      expectError(r, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('400 for a body that does not decompress, 415 for an unknown encoding or charset', async () => {
      for (const encoding of ['gzip', 'deflate', 'br']) {
        expectError(await postJsonText(windowUrl, 'not compressed', { 'content-encoding': encoding }), 400, 'BAD_REQUEST', /Content-Encoding/);
      }
      expectError(await postJsonText(windowUrl, '{}', { 'content-encoding': 'zstd-ish' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /encoding/);
      const r = await request(windowUrl, { method: 'POST', headers: { 'content-type': 'application/json; charset=x-unknown' }, body: '{}' });
      expectError(r, 415, 'UNSUPPORTED_MEDIA_TYPE', /charset/);
    });

    it('415 for a content type that is garbage or not accepted', async () => {
      for (const type of [';;;', 'text/plain', 'image/gif', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) {
        expectError(await postBytes(imageUrl, sample, type), 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
    });

    it('400 for a path that is not valid percent-encoding', async () => {
      expectError(await postJsonText(`${srv.base}/v1/tasks/%E0%A4%A/predict`, '{}'), 400, 'BAD_REQUEST', /percent-encoding/);
      expectError(await request(`${srv.base}/v1/tasks/%ZZ`), 400, 'BAD_REQUEST', /percent-encoding/);
      expectV2Error(await request(`${srv.base}/v2/models/%E0%A4%A`), 400, /percent-encoding/);
    });
  });

  describe('images', () => {
    it('422 for truncated and corrupt PNG, JPEG and WebP files, and for text sent as an image', async () => {
      const colourful = field(64, 48, '#3366cc');
      for (const [format, type] of [['png', 'image/png'], ['jpeg', 'image/jpeg'], ['webp', 'image/webp']] as const) {
        const bytes = await colourful.clone().toFormat(format).toBuffer();
        const truncated = bytes.subarray(0, Math.floor(bytes.length * 0.6));
        expectError(await postBytes(imageUrl, truncated, type), 422, 'INVALID_INPUT', /cannot be decoded/);
        const corrupt = bytes.map((b, i) => (i < 16 ? b : b ^ 0x5a)); // the signature survives, the rest does not
        expectError(await postBytes(imageUrl, corrupt, type), 422, 'INVALID_INPUT', /cannot be decoded/);
      }
      expectError(await postBytes(imageUrl, Buffer.from('hello, I am not a picture'), 'image/png'), 422, 'INVALID_INPUT', /cannot be decoded/);
      const base64Text = Buffer.from('not a picture either').toString('base64');
      expectError(await postJson(imageUrl, { input: { image: base64Text } }), 422, 'INVALID_INPUT', /cannot be decoded/);
    });

    it('415 for an image whose declared type is not its format (Content-Type or data: URL)', async () => {
      expectError(await postBytes(imageUrl, sample, 'image/jpeg'), 415, 'UNSUPPORTED_MEDIA_TYPE', /image\/png, but it was declared as image\/jpeg/);
      const jpeg = await sharp(sample).jpeg().toBuffer();
      expectError(await postBytes(imageUrl, jpeg, 'image/webp'), 415, 'UNSUPPORTED_MEDIA_TYPE', /image\/jpeg/);
      const dataUrl = `data:image/jpeg;base64,${sample.toString('base64')}`;
      expectError(await postJson(imageUrl, { input: { image: dataUrl } }), 415, 'UNSUPPORTED_MEDIA_TYPE', /declared as image\/jpeg/);
    });

    it('422 for formats other than PNG, JPEG and WebP, multi-page ones included, whatever they are labelled', async () => {
      const frames = [await field(16, 16, '#000000').png().toBuffer(), await field(16, 16, '#ffffff').png().toBuffer()];
      const gif = await sharp(frames, { join: { animated: true } }).gif().toBuffer();
      const tiff = await sharp(frames, { join: { animated: true } }).tiff().toBuffer();
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><image href="file:///etc/passwd"/></svg>');
      for (const [bytes, format] of [[gif, 'gif'], [tiff, 'tiff'], [svg, 'svg']] as const) {
        expectError(await postBytes(imageUrl, bytes, 'image/png'), 422, 'INVALID_INPUT', new RegExp(`not ${format}`));
      }
    });

    it('413 for decompression bombs: huge declared dimensions in a small file, read from the header only', async () => {
      expectError(await postBytes(imageUrl, pngDeclaring(50_000, 50_000), 'image/png'), 413, 'PAYLOAD_TOO_LARGE', /50000x50000 pixels/);
      const webp = await field(2048, 2048, '#000000').webp({ lossless: true }).toBuffer();
      expect(webp.length).to.be.below(1024);
      expectError(await postBytes(imageUrl, webp, 'image/webp'), 413, 'PAYLOAD_TOO_LARGE', /2048x2048 pixels; the limit is 1048576/);
      const r = await postJson(imageUrl, { input: { image: pngDeclaring(100_000, 100_000).toString('base64') } });
      expectError(r, 413, 'PAYLOAD_TOO_LARGE', /100000x100000 pixels/);
    });

    it('serves 16-bit, CMYK, alpha, grey-alpha and extreme-aspect images (200), as sharp converts them', async () => {
      const images: [string, Buffer, string][] = [
        ['16-bit RGB PNG', await sharp(sample).toColourspace('rgb16').png().toBuffer(), 'image/png'],
        ['16-bit grey PNG', await sharp(sample).toColourspace('grey16').png().toBuffer(), 'image/png'],
        ['CMYK JPEG', await sharp(sample).toColourspace('cmyk').jpeg().toBuffer(), 'image/jpeg'],
        ['RGBA PNG', await field(40, 30, { r: 200, g: 10, b: 10, alpha: 0.4 }, 4).png().toBuffer(), 'image/png'],
        ['grey-alpha WebP', await sharp(sample).ensureAlpha(0.5).webp({ lossless: true }).toBuffer(), 'image/webp'],
        ['1x1 PNG', await field(1, 1, '#ffffff').png().toBuffer(), 'image/png'],
        ['1x3000 PNG', await field(1, 3000, '#808080').png().toBuffer(), 'image/png'],
        ['3000x1 JPEG', await field(3000, 1, '#808080').jpeg().toBuffer(), 'image/jpeg'],
      ];
      for (const [what, bytes, type] of images) {
        const r = await postBytes(imageUrl, bytes, type);
        expect(r.status, `${what}: ${r.text}`).to.equal(200);
        expect(r.body.scores, what).to.have.length(srv.imageTask!.classes.length);
      }
    });

    it('serves an animated WebP from its first frame', async () => {
      const first = await sharp(sample).resize(32, 32).png().toBuffer();
      const second = await field(32, 32, '#ffffff').png().toBuffer();
      const animated = await sharp([first, second], { join: { animated: true } }).webp({ lossless: true }).toBuffer();
      expect((await sharp(animated).metadata()).pages).to.equal(2);
      const still = await sharp(first).webp({ lossless: true }).toBuffer();
      const fromAnimation = await postBytes(imageUrl, animated, 'image/webp');
      const fromStill = await postBytes(imageUrl, still, 'image/webp');
      expect(fromAnimation.status, fromAnimation.text).to.equal(200);
      expect(fromAnimation.body.scores).to.deep.equal(fromStill.body.scores);
    });
  });

  describe('JSON fields', () => {
    it('400 for wrong types, and for NaN and Infinity as strings or as numbers JSON cannot hold (1e999)', async () => {
      const row = (value: unknown) => [value, ...new Array<number>(C - 1).fill(0)];
      const windows = [
        'abc',
        {},
        null,
        Array.from({ length: L }, () => row('1')),
        Array.from({ length: L }, () => row('NaN')),
        Array.from({ length: L }, () => row('Infinity')),
        Array.from({ length: L }, () => row(null)),
        Array.from({ length: L }, () => row(true)),
      ];
      for (const window of windows) expectError(await postJson(windowUrl, { input: { window } }), 400, 'BAD_REQUEST');
      const good = JSON.stringify({ input: { window: windowArray(L, C) } });
      for (const huge of ['1e999', '-1e999']) {
        const r = await postJsonText(windowUrl, good.replace(/^(\{"input":\{"window":\[\[)[^,]+/, `$1${huge}`));
        expectError(r, 400, 'BAD_REQUEST', /\/input\/window\/0\/0 must be number/);
      }
      for (const image of [42, [], { data: 'x' }, '']) expectError(await postJson(imageUrl, { input: { image } }), 400, 'BAD_REQUEST');
    });

    it('422 for windows of the wrong length or width; 400 for the wrong nesting', async () => {
      for (const length of [0, 1, L - 1, L + 1]) {
        expectError(await postJson(windowUrl, { input: { window: windowArray(length, C) } }), 422, 'INVALID_INPUT', /samples/);
      }
      for (const width of [0, C - 1, C + 1]) {
        expectError(await postJson(windowUrl, { input: { window: windowArray(L, width) } }), 422, 'INVALID_INPUT', new RegExp(`${C} numbers`));
      }
      const flat = windowArray(L, C).flat();
      const deeper = windowArray(L, C).map((sample) => [sample]);
      for (const window of [flat, deeper, [windowArray(L, C)]]) expectError(await postJson(windowUrl, { input: { window } }), 400, 'BAD_REQUEST');
    });

    it('answers enormous arrays and objects with a short message', async () => {
      const cases = [
        { input: { window: Array.from({ length: 15_000 }, () => new Array<number>(C).fill(0)) } }, // valid JSON, 100s of kB: the shape check refuses it
        { input: { window: Array.from({ length: 40_000 }, () => 'x') } },
        Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`field${i}`, i])),
      ];
      for (const body of cases) {
        const r = await postJson(windowUrl, body);
        expect(r.status, r.text.slice(0, 200)).to.be.oneOf([400, 422]);
        expect(r.text.length).to.be.below(2048);
      }
    });

    it('400 for deeply nested JSON, on v1 and v2', async () => {
      const depth = 100_000;
      const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      expectError(await postJsonText(windowUrl, `{"input":{"window":${nested}}}`), 400, 'BAD_REQUEST');
      const tensor = (data: string) => `{"inputs":[{"name":"window","shape":[1,${L},${C}],"datatype":"FP32","data":${data}}]}`;
      expectV2Error(await postJsonText(`${srv.base}/v2/models/${srv.windowTask!.task}/infer`, tensor(nested)), 400, /nested deeper than its shape/);
    });

    it('refuses __proto__ and constructor keys, in bodies and query strings, without polluting prototypes', async () => {
      const window = JSON.stringify(windowArray(L, C));
      const bodies = [
        `{"input":{"window":${window}},"__proto__":{"polluted":"yes"}}`,
        `{"input":{"window":${window},"__proto__":{"polluted":"yes"}}}`,
        `{"input":{"window":${window}},"constraint":{"__proto__":{"polluted":"yes"}}}`,
        `{"input":{"window":${window}},"constructor":{"prototype":{"polluted":"yes"}}}`,
      ];
      for (const body of bodies) expectError(await postJsonText(windowUrl, body), 400, 'BAD_REQUEST', /unknown field/);
      for (const query of ['__proto__=yes', '__proto__=a&__proto__=b', '__proto__[polluted]=yes', 'constructor[prototype][polluted]=yes']) {
        expectError(await postBytes(`${imageUrl}?${query}`, sample, 'image/png'), 400, 'BAD_REQUEST', /unknown field/);
      }
      const v2 = `{"inputs":[{"name":"window","shape":[1,${L},${C}],"datatype":"FP32","data":[],"__proto__":{"polluted":"yes"}}]}`;
      expectV2Error(await postJsonText(`${srv.base}/v2/models/${srv.windowTask!.task}/infer`, v2), 400, /unknown field/);
      expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
      expect(Object.prototype).not.to.have.property('polluted');
    });

    it('400 for constraints out of range, in the body and in the query string', async () => {
      const body = await validPredictBody(srv.windowTask!);
      for (const constraint of [
        { minAccuracy: -1 },
        { minAccuracy: 2 },
        { maxLatencyMs: 0 },
        { maxLatencyMs: -5 },
        { maxLatencyMs: 'abc' },
        { minAccuracy: null },
        { minAccuracy: [0.9] },
      ]) {
        expectError(await postJson(windowUrl, { ...body, constraint }), 400, 'BAD_REQUEST', /constraint/);
      }
      for (const query of ['minAccuracy=-1', 'minAccuracy=2', 'maxLatencyMs=0', 'maxLatencyMs=-5', 'maxLatencyMs=abc', 'maxLatencyMs=NaN', 'maxLatencyMs=Infinity', 'maxLatencyMs=1e999', 'minAccuracy=', 'maxLatencyMs=0x10']) {
        expectError(await postBytes(`${imageUrl}?${query}`, sample, 'image/png'), 400, 'BAD_REQUEST', /query string/);
      }
    });
  });

  describe('names', () => {
    const pathLike = ['../../etc/passwd', '..\\..\\windows\\win.ini', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/etc/passwd', 'cnn-small/../../premodel', 'cnn-small\u0000.onnx', 'cnn-small.onnx'];

    it('404 for unknown tasks and models, on v1 and v2', async () => {
      expectError(await postJson(`${srv.base}/v1/tasks/no-such-task/predict`, await validPredictBody(srv.windowTask!)), 404, 'NOT_FOUND', /the tasks are/);
      expectError(await request(`${srv.base}/v1/tasks/no-such-task`), 404, 'NOT_FOUND');
      expectError(await postJson(windowUrl, { ...(await validPredictBody(srv.windowTask!)), model: 'no-such-model' }), 404, 'NOT_FOUND', /its models are/);
      expectV2Error(await request(`${srv.base}/v2/models/no-such-model`), 404, /valid names/);
      expectV2Error(await postJsonText(`${srv.base}/v2/models/no-such-model/infer`, '{}'), 404, /valid names/);
    });

    it('404 for path-like model and task ids, as v1 body and query fields and as v2 and v1 path segments', async () => {
      const body = await validPredictBody(srv.imageTask!);
      for (const id of pathLike) {
        const escaped = encodeURIComponent(id);
        expectError(await postJson(imageUrl, { ...body, model: id }), 404, 'NOT_FOUND', /has no model/);
        expectError(await postBytes(`${imageUrl}?model=${escaped}`, sample, 'image/png'), 404, 'NOT_FOUND', /has no model/);
        expectV2Error(await request(`${srv.base}/v2/models/${escaped}`), 404);
        expectV2Error(await postJsonText(`${srv.base}/v2/models/${escaped}/infer`, '{}'), 404);
        expectError(await postJson(`${srv.base}/v1/tasks/${escaped}/predict`, body), 404, 'NOT_FOUND');
      }
    });
  });

  describe('Open Inference Protocol tensors', () => {
    const infer = (name: string, tensor: object, extra: object = {}) =>
      postJson(`${srv.base}/v2/models/${name}/infer`, { inputs: [{ datatype: 'FP32', ...tensor }], ...extra });

    it('400 or 422 for tensors of the wrong type, shape, size or values', async () => {
      const task = srv.windowTask!.task;
      const shape = [1, L, C];
      const values = (value: unknown) => Array.from({ length: L * C }, () => value);
      expectV2Error(await infer(task, { name: 'window', shape, data: values('x') }), 400, /numbers only/);
      expectV2Error(await infer(task, { name: 'window', shape, data: values({}) }), 400, /datatype FP32 must hold numbers only, found an object/);
      expectV2Error(await infer(task, { name: 'window', shape, data: [values(1)].map((v) => [[v]]) }), 400, /nested deeper/);
      expectV2Error(await infer(task, { name: 'window', shape, data: values(1).slice(1) }), 422, new RegExp(`${L * C - 1} values`));
      expectV2Error(await infer(task, { name: 'window', shape, data: values(1).concat(values(1)) }), 422, new RegExp(`${2 * L * C} values`));
      expectV2Error(await infer(task, { name: 'window', shape: [1e15, 1e15], data: [] }), 422, /shape/);
      expectV2Error(await infer(task, { name: 'window', shape: [1, L, -C], data: [] }), 400);
      expectV2Error(await infer(task, { name: 'window', shape, data: values(1), datatype: 'FP16' }), 400, /FP16 is not served/);
      expectV2Error(await infer(task, { name: 'window', shape: [1, L, C], data: values('x'), datatype: 'BYTES' }), 400, /BYTES/);
      expectV2Error(await infer(task, { name: 'images', shape, data: values(1) }), 400, /has one input/);
      expectV2Error(await infer(task, { name: 'window', shape, data: values(1) }, { outputs: [{ name: 'secrets' }] }), 400, /no output/);
      const withInfinity = JSON.stringify({ inputs: [{ name: 'window', shape, datatype: 'FP32', data: values(0) }] }).replace('[0,', '[1e999,');
      expectV2Error(await postJsonText(`${srv.base}/v2/models/${task}/infer`, withInfinity), 422, /not a finite number/);
      const image = srv.imageTask!.task;
      const pixels = (await request(`${srv.base}/v2/models/${image}`)).body.inputs[0];
      // One example: the metadata's batch dimension is -1.
      const one = [1, ...(pixels.shape as number[]).slice(1)];
      const bright = Array.from({ length: one.reduce((a, b) => a * b, 1) }, () => 1e6);
      expectV2Error(await infer(image, { name: pixels.name, shape: one, data: bright }), 422, /outside the preprocessed range/);
    });
  });
});

/**
 * The Open Inference Protocol as its specification and Triton's client speak it: responses checked
 * against the specification's own schemas (test/fixtures/open-inference), and the requests of
 * tritonclient.http replayed byte for byte as its source builds them
 * (triton-inference-server/client, src/python/library/tritonclient/http/_utils.py,
 * `_get_inference_request`, and `_client.py`, `infer`, at commit 58a44caa of May 2026): no
 * Content-Type; a JSON header, then each input's raw little-endian bytes, its length in the
 * `Inference-Header-Content-Length` header and each input's in `parameters.binary_data_size`;
 * `binary_data_output: true` when no outputs are named; BYTES as 4-byte little-endian lengths.
 * KServe's InferenceRESTClient (kserve/kserve, python/kserve/kserve/inference_client.py, `infer`,
 * at commit 0217bdab) sends the same binary layout with `content-type: application/octet-stream`,
 * and JSON as bytes with no Content-Type.
 */
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { parse } from 'yaml';
import { postJson, request, serverPerSuite, validPredictBody, windowArray, windowShape, type TestServer } from './server.js';

const spec = parse(await readFile('test/fixtures/open-inference/open_inference_rest.yaml', 'utf8')) as { components: { schemas: Record<string, object> } };

/** A validator of one of the specification's component schemas (OpenAPI 3.0: its $refs resolved by ajv). */
function specSchema(name: string): (value: unknown) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'spec', components: spec.components });
  const validate = ajv.compile({ $ref: `spec#/components/schemas/${name}` });
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

const inferenceResponse = specSchema('inference_response');
const modelMetadata = specSchema('metadata_model_response');
const serverMetadata = specSchema('metadata_server_response');
const errorResponse = specSchema('inference_error_response');

/** tritonclient.http's infer request: the JSON header, then the inputs' bytes; its headers. */
function tritonRequest(header: object, binary: Buffer[]): { body: BodyInit; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  if (binary.length === 0) return { body: new Uint8Array(json) as BodyInit, headers: {} };
  return { body: new Uint8Array(Buffer.concat([json, ...binary])) as BodyInit, headers: { 'Inference-Header-Content-Length': String(json.length) } };
}

/** The outputs of a response, JSON or binary (the header's length, then each binary output's bytes). */
async function outputsOf(res: Response): Promise<{ head: any; outputs: Record<string, number[] | string[]> }> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const length = res.headers.get('inference-header-content-length');
  const head = JSON.parse(bytes.subarray(0, length === null ? bytes.length : Number(length)).toString('utf8'));
  let at = length === null ? bytes.length : Number(length);
  const outputs: Record<string, number[] | string[]> = {};
  for (const o of head.outputs) {
    if (o.data !== undefined) {
      outputs[o.name] = o.data;
      continue;
    }
    const chunk = bytes.subarray(at, at + o.parameters.binary_data_size);
    at += chunk.length;
    if (o.datatype === 'FP32') outputs[o.name] = Array.from(new Float32Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length)));
    else if (o.datatype === 'INT64') outputs[o.name] = Array.from(new BigInt64Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length)), Number);
    else {
      const strings: string[] = [];
      for (let i = 0; i < chunk.length; ) {
        const n = chunk.readUInt32LE(i);
        strings.push(chunk.subarray(i + 4, i + 4 + n).toString('utf8'));
        i += 4 + n;
      }
      outputs[o.name] = strings;
    }
  }
  expect(at, 'every byte of the body is accounted for').to.equal(bytes.length);
  return { head, outputs };
}

/** A BYTES tensor as tritonclient's serialize_byte_tensor makes it: each element's length (u32 LE), then its bytes. */
function serializeBytes(elements: readonly Buffer[]): Buffer {
  return Buffer.concat(elements.flatMap((e) => [Buffer.from(new Uint32Array([e.length]).buffer), e]));
}

describe('http v2: the specification and Triton\'s client', () => {
  let srv: TestServer;
  serverPerSuite((server) => (srv = server));

  const windowInput = () => {
    const { length, channels } = windowShape(srv.windowTask!);
    return { length, channels, window: windowArray(length, channels) };
  };

  it('server and model metadata, on unversioned and versioned paths, match the specification', async () => {
    const server = await request(`${srv.base}/v2`);
    expect(serverMetadata(server.body)).to.deep.equal([]);
    expect(server.body.extensions).to.include('binary_tensor_data');
    for (const path of [`/v2/models/${srv.windowTask!.task}`, `/v2/models/${srv.windowTask!.task}/versions/1`]) {
      const r = await request(`${srv.base}${path}`);
      expect(r.status, path).to.equal(200);
      expect(modelMetadata(r.body)).to.deep.equal([]);
      expect(r.body.versions).to.deep.equal(['1']);
    }
    const ready = await request(`${srv.base}/v2/models/${srv.windowTask!.task}/versions/1/ready`);
    expect(ready.status).to.equal(200);
    const other = await request(`${srv.base}/v2/models/${srv.windowTask!.task}/versions/2`);
    expect(other.status).to.equal(404);
    expect(errorResponse(other.body)).to.deep.equal([]);
  });

  it("Triton's JSON request, with no Content-Type, a numeric id and a model_name, routed on a task; the response matches the specification", async () => {
    const { length, channels, window } = windowInput();
    const task = srv.windowTask!.task;
    const { body, headers } = tritonRequest(
      { id: 7, model_name: task, inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', data: window.flat() }], outputs: [{ name: 'scores', parameters: { binary_data: false } }] },
      [],
    );
    const res = await fetch(`${srv.base}/v2/models/${task}/versions/1/infer`, { method: 'POST', headers, body });
    expect(res.status).to.equal(200);
    const reply = await res.json();
    expect(inferenceResponse(reply)).to.deep.equal([]);
    expect(reply).to.include({ model_name: task, model_version: '1', id: '7' });
    expect(reply.parameters.routing).to.equal('premodel');
    expect(reply.outputs.map((o: { name: string }) => o.name)).to.deep.equal(['scores']);
  });

  it("Triton's and KServe's binary requests (FP32 and FP64 inputs, no outputs named: every output binary) answer as JSON does", async () => {
    const { length, channels, window } = windowInput();
    const task = srv.windowTask!.task;
    const json = await postJson(`${srv.base}/v2/models/${task}/infer`, { inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', data: window.flat() }] });
    expect(inferenceResponse(json.body)).to.deep.equal([]);
    for (const [datatype, bytes] of [
      ['FP32', Buffer.from(Float32Array.from(window.flat()).buffer)],
      ['FP64', Buffer.from(Float64Array.from(window.flat()).buffer)],
    ] as const) {
      const { body, headers } = tritonRequest(
        { inputs: [{ name: 'window', shape: [1, length, channels], datatype, parameters: { binary_data_size: bytes.length } }], parameters: { binary_data_output: true } },
        [bytes],
      );
      // As KServe's client sends it: the same bytes, declared application/octet-stream.
      const kserve = await fetch(`${srv.base}/v2/models/${task}/infer`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body });
      expect(kserve.status, `KServe ${datatype}`).to.equal(200);
      expect((await outputsOf(kserve)).outputs.class_index).to.deep.equal(json.body.outputs[1].data);
      const res = await fetch(`${srv.base}/v2/models/${task}/infer`, { method: 'POST', headers, body });
      expect(res.status, datatype).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/application\/octet-stream/);
      const { head, outputs } = await outputsOf(res);
      expect(inferenceResponse(head.outputs.every((o: any) => o.data === undefined) ? { ...head, outputs: head.outputs.map((o: any) => ({ ...o, data: [] })) } : head)).to.deep.equal([]);
      expect(outputs.class_index).to.deep.equal(json.body.outputs[1].data);
      expect(outputs.label).to.deep.equal(json.body.outputs[2].data);
      (outputs.scores as number[]).forEach((v, i) => expect(v).to.be.closeTo(json.body.outputs[0].data[i], 1e-6));
    }
  });

  it('integer datatypes (INT64, UINT8, INT32) convert to the model\'s FP32: an integer-valued window answers as in FP32', async () => {
    const { length, channels } = windowInput();
    const task = srv.windowTask!.task;
    const still = Array.from({ length: length * channels }, (_, i) => (i % channels === 2 ? 1 : 0));
    const answers = [];
    for (const datatype of ['FP32', 'INT64', 'UINT8', 'INT32']) {
      const r = await postJson(`${srv.base}/v2/models/${task}/infer`, { inputs: [{ name: 'window', shape: [1, length, channels], datatype, data: still }] });
      expect(r.status, `${datatype}: ${r.text}`).to.equal(200);
      answers.push(r.body.outputs[0].data);
    }
    for (const a of answers) expect(a).to.deep.equal(answers[0]);
  });

  it('a batch of 3 answers each example as alone, with the batch dimension in every output', async () => {
    const { length, channels, window } = windowInput();
    const task = srv.windowTask!.task;
    const still = Array.from({ length }, () => Array.from({ length: channels }, (_, c) => (c === 2 ? 1 : 0)));
    const examples = [window, still, window];
    const batch = await postJson(`${srv.base}/v2/models/${task}/infer`, { inputs: [{ name: 'window', shape: [3, length, channels], datatype: 'FP32', data: examples.flat(2) }] });
    expect(batch.status, batch.text).to.equal(200);
    expect(inferenceResponse(batch.body)).to.deep.equal([]);
    const classes = srv.windowTask!.classes.length;
    expect(batch.body.outputs.map((o: any) => o.shape)).to.deep.equal([[3, classes], [3], [3]]);
    expect(batch.body.parameters.batch).to.equal(3);
    expect(batch.body.parameters.requestId.split(',')).to.have.length(3);
    for (const [i, example] of examples.entries()) {
      const alone = await postJson(`${srv.base}/v2/models/${task}/infer`, { inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', data: example.flat() }] });
      expect(batch.body.outputs[1].data[i]).to.equal(alone.body.outputs[1].data[0]);
    }
  });

  it('an image task takes encoded images as BYTES: base64 in JSON, raw with the binary extension', async () => {
    const t = srv.imageTask!;
    const v1 = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, await validPredictBody(t));
    const png = Buffer.from(((await validPredictBody(t)).input as { image: string }).image, 'base64');
    const json = await postJson(`${srv.base}/v2/models/${t.task}/infer`, { inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: [png.toString('base64'), png.toString('base64')] }] });
    expect(json.status, json.text).to.equal(200);
    expect(json.body.outputs[1].data).to.deep.equal([v1.body.classIndex, v1.body.classIndex]);
    const bytes = serializeBytes([png]);
    const { body, headers } = tritonRequest({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: bytes.length } }], outputs: [{ name: 'label', parameters: { binary_data: true } }] }, [bytes]);
    const res = await fetch(`${srv.base}/v2/models/${t.task}/infer`, { method: 'POST', headers, body });
    expect(res.status).to.equal(200);
    expect((await outputsOf(res)).outputs.label).to.deep.equal([v1.body.label]);
    const onWindows = await postJson(`${srv.base}/v2/models/${srv.windowTask!.task}/infer`, { inputs: [{ name: 'window', shape: [1], datatype: 'BYTES', data: ['eA=='] }] });
    expect(onWindows.status).to.equal(400);
  });

  it('the specification\'s own first example, sent as it is, is refused with a clear 400 in its error schema', async () => {
    const example = (spec.components.schemas.inference_request as { 'x-examples': Record<string, unknown> })['x-examples']['Example 1'];
    const r = await postJson(`${srv.base}/v2/models/${srv.windowTask!.task}/infer`, example);
    expect(r.status).to.equal(400);
    expect(errorResponse(r.body)).to.deep.equal([]);
    expect(r.body.error).to.contain('has one input, "window"; the request gives input0, input1');
  });

  it('refuses a binary body whose sizes do not add up', async () => {
    const { length, channels, window } = windowInput();
    const task = srv.windowTask!.task;
    const bytes = Buffer.from(Float32Array.from(window.flat()).buffer);
    const cases: [object, Buffer[], Record<string, string> | undefined][] = [
      [{ inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', parameters: { binary_data_size: bytes.length + 4 } }] }, [bytes], undefined],
      [{ inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', parameters: { binary_data_size: bytes.length } }] }, [bytes.subarray(4)], undefined],
      [{ inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', parameters: { binary_data_size: bytes.length } }] }, [bytes], { 'Inference-Header-Content-Length': '999999' }],
    ];
    for (const [header, binary, override] of cases) {
      const { body, headers } = tritonRequest(header, binary);
      const res = await fetch(`${srv.base}/v2/models/${task}/infer`, { method: 'POST', headers: { ...headers, ...override }, body });
      expect(res.status).to.be.oneOf([400, 422]);
      expect(errorResponse(await res.json())).to.deep.equal([]);
    }
  });

  it('the repository index, statistics and configuration', async () => {
    const task = srv.windowTask!.task;
    const index = await postJson(`${srv.base}/v2/repository/index`, {});
    expect(index.body).to.deep.include({ name: task, version: '1', state: 'READY' });
    const before = (await request(`${srv.base}/v2/models/${task}/stats`)).body.model_stats[0];
    const { length, channels, window } = windowInput();
    await postJson(`${srv.base}/v2/models/${task}/infer`, { inputs: [{ name: 'window', shape: [2, length, channels], datatype: 'FP32', data: [window, window].flat(2) }] });
    await postJson(`${srv.base}/v2/models/${task}/infer`, { inputs: [{ name: 'window', shape: [1, 1, 1], datatype: 'FP32', data: [0] }] });
    const after = (await request(`${srv.base}/v2/models/${task}/versions/1/stats`)).body.model_stats[0];
    expect(after.inference_count - before.inference_count).to.equal(2);
    expect(after.execution_count - before.execution_count).to.equal(1);
    expect(after.inference_stats.fail.count - before.inference_stats.fail.count).to.equal(1);
    expect(after.inference_stats.success.ns).to.be.above(before.inference_stats.success.ns);
    const config = (await request(`${srv.base}/v2/models/${task}/config`)).body;
    expect(config).to.include({ name: task, max_batch_size: 64 });
    expect(config.input[0]).to.deep.equal({ name: 'window', data_type: 'TYPE_FP32', dims: [length, channels] });
    expect(config.output.map((o: any) => o.data_type)).to.deep.equal(['TYPE_FP32', 'TYPE_INT64', 'TYPE_STRING']);
  });
});

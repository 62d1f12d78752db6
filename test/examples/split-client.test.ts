import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { TINY_HEAD } from '../helpers/bottleneck.js';
import { serverPerSuite, type TestServer } from '../http/server.js';

/** Runs the example as a user does (tsx), while this process serves it. */
function client(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/split-client.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples/split-client.ts', function () {
  this.timeout(60_000);
  let srv: TestServer;
  serverPerSuite((server) => (srv = server));

  it('downloads the head, checks its sha256, runs it on a window, sends the bottleneck and prints the answer and the bytes', async () => {
    const run = await client(['--url', srv.base, '--task', TINY_HEAD.task, '--window', 'test/fixtures/tiny/window.json', '--min-accuracy', '0.8']);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^head motion-bn of task tiny-window \(sha256 [0-9a-f]{12}\.\.\. checked\): bottleneck \[2, 3\] uint8$/);
    expect(lines[2]).to.match(/^sent: 6 B of bottleneck \(JSON body \d+ B\); raw alternatives: JSON window [\d.]+ (B|KB), float32 window 480 B$/);
    const answer = JSON.parse(lines[3]!);
    expect(TINY_HEAD.tails).to.include(answer.model);
    expect(['still', 'walk', 'run']).to.include(answer.label);
    expect(lines[1]).to.equal(`answer: ${answer.label} by ${answer.model}, constraintMet ${answer.selection.constraintMet}, predictedAccuracy ${answer.selection.predictedAccuracy}`);
  });

  it('refuses a head file whose sha256 is not the listing\'s, and bad options in one line', async () => {
    const tampered = await client(['--url', srv.base, '--task', TINY_HEAD.task, '--window', 'test/fixtures/tiny/window.json', '--head-file', `${TINY_HEAD.dir}/tail-x.onnx`]);
    expect(tampered.code).to.equal(1);
    expect(tampered.stderr).to.match(/is not the listing's [0-9a-f]{64}: refusing to run it/);
    const bad = await client(['--task', TINY_HEAD.task, '--min-accuracy', '2', '--window', 'x']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim().split('\n')).to.deep.equal(['npx tsx examples/split-client.ts: --min-accuracy must be a number from 0 to 1, not "2" (see --help)']);
    const neither = await client(['--task', TINY_HEAD.task]);
    expect(neither.code).to.equal(2);
    expect(neither.stderr).to.contain('give one of --window FILE and --image FILE');
    const help = await client(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('--head-file FILE');
  });
});

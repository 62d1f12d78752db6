import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parseCpuList, splitCpus, startService } from '../../../scripts/bench/service.js';

describe('the service as npm start runs it (bench/service)', function () {
  this.timeout(60_000);

  const commandLineOf = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((arg) => arg !== '');

  it('serves from two worker processes on one port, compiled as npm start runs it, then drains and exits 0 on SIGTERM', async () => {
    const service = await startService({ WORKERS: '2', LOG_LEVEL: 'info', FEEDBACK_DIR: '' });
    try {
      expect((await commandLineOf(service.pid)).slice(1)).to.deep.equal(['dist/main.js']);
      const workers = (await readFile(`/proc/${service.pid}/task/${service.pid}/children`, 'utf8')).trim().split(/\s+/);
      expect(workers).to.have.length(2);
      for (let i = 0; i < 4; i++) {
        // A fresh connection each time: node:cluster hands connections to the workers in turn.
        const r = await fetch(`${service.base}/readyz`, { headers: { connection: 'close' } });
        expect(r.status).to.equal(200);
      }
    } finally {
      expect(await service.stop()).to.equal(0);
    }
  });

  it('runs the TypeScript through tsx, with a module of the repository imported first, when asked', async () => {
    const service = await startService({ WORKERS: '1', FEEDBACK_DIR: '' }, { runtime: 'tsx', preload: './scripts/bench/plain-server.ts' });
    try {
      expect((await commandLineOf(service.pid)).slice(1)).to.deep.equal(['--import', 'tsx', '--import', './scripts/bench/plain-server.ts', 'src/main.ts']);
      expect((await fetch(`${service.base}/readyz`)).status).to.equal(200);
    } finally {
      expect(await service.stop()).to.equal(0);
    }
  });

  it('exits non-zero, before listening, when a worker cannot load its artifacts', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-empty-'));
    try {
      const started = startService({ WORKERS: '2', ZOO_DIR: empty, PREMODEL_DIR: empty, FEEDBACK_DIR: '' });
      await started.then(
        (service) => service.stop().then(() => expect.fail('the service started without a zoo')),
        (err: Error) => expect(err.message).to.match(/exited with code [1-9]\d* before listening: .*no task folder with a manifest\.json/s),
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('runs every worker on the CPUs it is given', async () => {
    const service = await startService({ WORKERS: '2', FEEDBACK_DIR: '' }, { cpus: [0] });
    try {
      const workers = (await readFile(`/proc/${service.pid}/task/${service.pid}/children`, 'utf8')).trim().split(/\s+/);
      expect(workers).to.have.length(2);
      for (const pid of [String(service.pid), ...workers]) {
        expect((await readFile(`/proc/${pid}/status`, 'utf8')).match(/^Cpus_allowed_list:\s*(.*)$/m)?.[1]).to.equal('0');
      }
    } finally {
      expect(await service.stop()).to.equal(0);
    }
  });

  it('reads CPU lists as the kernel writes them, and shares every CPU when the generator keeps none', () => {
    expect(parseCpuList('0-3,6\n')).to.deep.equal([0, 1, 2, 3, 6]);
    expect(parseCpuList(' 1')).to.deep.equal([1]);
    expect(() => parseCpuList('3-1')).to.throw('not a CPU list: "3-1"');
    expect(splitCpus(0)).to.equal(undefined);
    expect(() => splitCpus(os.availableParallelism())).to.throw(/none would be left to the service/);
  });
});

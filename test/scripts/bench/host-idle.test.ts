import { expect } from 'chai';
import { HOST_IDLE_WORKLOAD, measureHostIdle } from '../../../scripts/bench/host-idle.js';

describe('bench/host-idle', function () {
  this.timeout(30_000);

  it('times the same work back to back and after an idle in a plain node process on the CPUs it is given, and reports medians and their ratio', async () => {
    const result = await measureHostIdle({ idleMs: 1, rounds: 3, cpus: [0] });
    expect(result).to.include({ workload: HOST_IDLE_WORKLOAD, idleMs: 1, rounds: 3 });
    expect(result.backToBackMs).to.be.greaterThan(0);
    expect(result.afterIdleMs).to.be.greaterThan(0);
    expect(result.ratio).to.be.closeTo(result.afterIdleMs / result.backToBackMs, 1e-12);
  });
});

import { expect } from 'chai';
import { summariseProfile, type CpuProfile } from '../../../scripts/bench/cpu-profile.js';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

describe('bench/cpu-profile', () => {
  it("gives each sample's time to the owner of its stack, idle left out, and ranks functions by self time", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 6] },
        { id: 2, callFrame: frame('handle', 'file:///app/node_modules/router/index.js'), children: [4] },
        { id: 3, callFrame: frame('(idle)', '') },
        { id: 4, callFrame: frame('run', 'file:///app/src/zoo/onnx.ts'), children: [5] },
        // A native leaf (the binding's run) is its JavaScript caller's.
        { id: 5, callFrame: frame('run', '') },
        { id: 6, callFrame: frame('parse', '') },
      ],
      samples: [2, 5, 5, 3, 6, 4],
      // The first delta is the profile's start; each later one is the time of the sample before it.
      timeDeltas: [0, 100, 200, 300, 5000, 40, 60],
    };
    const summary = summariseProfile(profile, 2);
    expect(summary.busyMs).to.be.closeTo((100 + 200 + 300 + 40 + 60) / 1000, 1e-9);
    expect(summary.byOwnerMs).to.deep.equal({ 'models (onnxruntime)': 0.56, 'express and its middleware': 0.1, JSON: 0.04 });
    expect(summary.topSelfMs.map(([name]) => name)).to.deep.equal(['run (native)', 'handle node_modules/router/index.js:1']);
  });

  it("gives the compiled service's frames (dist/) the owners of its TypeScript (src/), and a package's dist/ folder to no module of the service", () => {
    const leaves = [
      ['decode', 'file:///app/dist/inputs/window/index.js'],
      ['decode', 'file:///app/src/inputs/window/index.ts'],
      ['run', 'file:///app/dist/zoo/onnx.js'],
      ['respond', 'file:///app/dist/serve/stages.js'],
      ['send', 'file:///app/node_modules/some-package/dist/http/send.js'],
    ] as const;
    const profile: CpuProfile = {
      nodes: [{ id: 1, callFrame: frame('(root)', ''), children: leaves.map((_, i) => i + 2) }, ...leaves.map(([name, url], i) => ({ id: i + 2, callFrame: frame(name, url) }))],
      samples: leaves.map((_, i) => i + 2),
      timeDeltas: [0, ...leaves.map(() => 100)],
    };
    const summary = summariseProfile(profile, 5);
    expect(summary.byOwnerMs).to.deep.equal({
      'inputs (decoding, features, tensors)': 0.2,
      'models (onnxruntime)': 0.1,
      'request stages and latency': 0.1,
      'other JavaScript': 0.1,
    });
    expect(summary.topSelfMs.map(([name]) => name)).to.include.members(['decode dist/inputs/window/index.js:1', 'send node_modules/some-package/dist/http/send.js:1']);
  });
});

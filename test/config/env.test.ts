import { expect } from 'chai';
import { SERVICE_DEFAULTS } from '../../src/config/defaults.js';
import { ConfigError, configFromEnv } from '../../src/config/env.js';

describe('config/env: processes and latency adaptation', () => {
  it('defaults to one worker per core and adaptation on', () => {
    const c = configFromEnv({});
    expect(c.workers).to.equal(SERVICE_DEFAULTS.workers).and.to.be.at.least(1);
    expect(c.adaptiveLatency).to.equal(true);
  });

  it('reads WORKERS and ADAPTIVE_LATENCY', () => {
    expect(configFromEnv({ WORKERS: '3' }).workers).to.equal(3);
    for (const off of ['0', 'false', 'off', 'NO']) expect(configFromEnv({ ADAPTIVE_LATENCY: off }).adaptiveLatency, off).to.equal(false);
    for (const on of ['1', 'true', 'on', 'yes']) expect(configFromEnv({ ADAPTIVE_LATENCY: on }).adaptiveLatency, on).to.equal(true);
  });

  it('refuses values out of range, naming the variable and the limit', () => {
    expect(() => configFromEnv({ WORKERS: '0', ADAPTIVE_LATENCY: 'maybe' }))
      .to.throw(ConfigError)
      .with.property('problems')
      .that.deep.equals(['WORKERS must be an integer from 1 to 256, not "0"', 'ADAPTIVE_LATENCY must be 1 or 0 (true or false), not "maybe"']);
  });
});

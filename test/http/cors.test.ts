import { expect } from 'chai';
import { ConfigError, configFromEnv } from '../../src/config/env.js';
import { request, startServer, validPredictBody, type TestServer } from './server.js';

const PAGE = 'https://app.example';

describe('http CORS', () => {
  it('is off by default: no CORS header, whatever the origin', async () => {
    const srv = await startServer();
    try {
      const r = await request(`${srv.base}/v1/tasks`, { headers: { origin: PAGE } });
      expect(r.headers.get('access-control-allow-origin')).to.equal(null);
    } finally {
      await srv.close();
    }
  });

  describe('with CORS_ORIGINS', () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer({ corsOrigins: `${PAGE}, https://other.example` });
    });
    after(() => srv.close());

    it('answers a listed origin, with the headers a page needs to read', async () => {
      const task = srv.windowTask!;
      const r = await request(`${srv.base}/v1/tasks/${task.task}/predict`, {
        method: 'POST',
        headers: { origin: PAGE, 'content-type': 'application/json' },
        body: JSON.stringify(await validPredictBody(task)),
      });
      expect(r.status).to.equal(200);
      expect(r.headers.get('access-control-allow-origin')).to.equal(PAGE);
      expect(r.headers.get('vary')).to.contain('Origin');
      expect(r.headers.get('access-control-expose-headers')).to.contain('X-Request-Id');
    });

    it('answers a preflight of a listed origin (204), and gives an unlisted one nothing', async () => {
      const preflight = await request(`${srv.base}/v2/models/${srv.windowTask!.task}/infer`, {
        method: 'OPTIONS',
        headers: { origin: PAGE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get('access-control-allow-methods')).to.contain('POST');
      expect(preflight.headers.get('access-control-allow-headers')).to.contain('Content-Type');
      const other = await request(`${srv.base}/v1/tasks`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).to.equal(null);
    });
  });

  it('refuses an origin that is not one', () => {
    expect(() => configFromEnv({ CORS_ORIGINS: 'app.example/path' })).to.throw(ConfigError, /CORS_ORIGINS/);
    expect(configFromEnv({ CORS_ORIGINS: '*' }).corsOrigins).to.equal('*');
  });
});

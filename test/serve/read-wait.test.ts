import { expect } from 'chai';
import { ReadWait } from '../../src/serve/read-wait.js';

describe('serve/read-wait', () => {
  it('after a pause, a request waited only for the requests of its turn read before it', () => {
    const wait = new ReadWait();
    wait.endTurn(100, 50);
    // The loop was busy, then idle (the counter moved by 6 ms), then read three requests.
    expect(wait.waitedMs(110, 56)).to.equal(0);
    expect(wait.waitedMs(111.5, 56)).to.be.closeTo(1.5, 1e-9);
    expect(wait.waitedMs(114, 56)).to.be.closeTo(4, 1e-9);
  });

  it('without a pause, requests were there when the last turn ended, and also waited for half that turn', () => {
    const wait = new ReadWait();
    wait.endTurn(100, 50);
    wait.waitedMs(101, 51); // a turn after a pause: it starts at its first read, 101
    wait.endTurn(108, 51); // and lasts 7 ms
    // No idle since: 3 ms of this turn, plus half the 7 ms turn while it arrived.
    expect(wait.waitedMs(111, 51)).to.be.closeTo(3 + 3.5, 1e-9);
    expect(wait.waitedMs(112, 51)).to.be.closeTo(4 + 3.5, 1e-9);
    wait.endTurn(113, 51); // a turn of 5 ms, from 108
    expect(wait.waitedMs(113.01, 51.01), 'idle under the threshold is no pause').to.be.closeTo(0.01 + 2.5, 1e-9);
  });

  it('never more than since the last answer on the connection: a client asks again only once answered', () => {
    const wait = new ReadWait();
    wait.endTurn(100, 50);
    wait.waitedMs(101, 51);
    wait.endTurn(108, 51);
    expect(wait.waitedMs(111, 51, 110.5)).to.be.closeTo(0.5, 1e-9);
    expect(wait.waitedMs(111, 51, 90), 'the loop bound is the smaller').to.be.closeTo(3 + 3.5, 1e-9);
    expect(wait.waitedMs(111, 51, 111.2), 'an answer after the read (a pipelining client) counts as no wait').to.equal(0);
  });

  it('busy work before a pause is no wait: a process that loaded models, then idled, reads its first request at once', () => {
    const wait = new ReadWait();
    wait.endTurn(100, 50);
    // 5 s later, 4.9 s of it busy (a reload), then 0.1 s idle.
    expect(wait.waitedMs(5100, 50.1)).to.equal(0);
  });
});

import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { DecisionSigner, TokenError, type Decision } from '../../src/feedback/token.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

const decision: Decision = {
  task: 'fashion',
  premodel: '1a2b3c4d',
  issuedAtS: 1_790_000_000,
  group: 'jpeg-low@native',
  target: 0.9,
  effectiveTarget: 0.9125,
  point: 17,
  runs: [
    { rung: 0, classIndex: 3, confidence: 0.61 },
    { rung: 4, classIndex: 9, confidence: 0.97 },
  ],
};

describe('feedback/token', () => {
  it('holds the decision it signs, compactly', () => {
    const signer = new DecisionSigner(KEY);
    const token = signer.sign(decision);
    expect(token).to.match(/^[A-Za-z0-9_-]+$/);
    expect(token.length).to.be.below(110);
    const { decision: back, id } = signer.verify(token);
    expect(id).to.match(/^[0-9a-f]{32}$/);
    expect({ ...back, runs: [] }).to.deep.equal({ ...decision, runs: [] });
    back.runs.forEach((r, i) => {
      expect(r.rung).to.equal(decision.runs[i]!.rung);
      expect(r.classIndex).to.equal(decision.runs[i]!.classIndex);
      expect(r.confidence).to.be.closeTo(decision.runs[i]!.confidence, 1e-4);
    });
  });

  it('keeps no target, no point and no group as none', () => {
    const signer = new DecisionSigner(KEY);
    const bare: Decision = { ...decision, group: undefined, target: undefined, effectiveTarget: undefined, point: undefined };
    expect(signer.verify(signer.sign(bare)).decision).to.deep.include({ group: undefined, target: undefined, point: undefined });
  });

  it('makes every token unique, even for the same decision', () => {
    const signer = new DecisionSigner(KEY);
    expect(signer.sign(decision)).to.not.equal(signer.sign(decision));
  });

  it('refuses an altered token, one of another key, and text that is no token', () => {
    const signer = new DecisionSigner(KEY);
    const token = signer.sign(decision);
    const bytes = Buffer.from(token, 'base64url');
    bytes[30] = bytes[30]! ^ 1; // a byte of the decision, not of the signature
    expect(() => signer.verify(bytes.toString('base64url'))).to.throw(TokenError, /signature/);
    expect(() => new DecisionSigner(Buffer.alloc(32, 7)).verify(token)).to.throw(TokenError, /signature/);
    expect(() => signer.verify('not a token')).to.throw(TokenError);
    expect(() => signer.verify('')).to.throw(TokenError);
    expect(() => signer.verify(`${token}A`)).to.throw(TokenError);
  });

  it("signs with HMAC-SHA256 as node's own Hmac computes it, for keys shorter and longer than its block", () => {
    for (const key of [KEY, Buffer.alloc(64, 7), Buffer.alloc(100, 9)]) {
      const bytes = Buffer.from(new DecisionSigner(key).sign(decision), 'base64url');
      const body = bytes.subarray(0, bytes.length - 16);
      expect(bytes.subarray(bytes.length - 16).equals(createHmac('sha256', key).update(body).digest().subarray(0, 16))).to.equal(true);
    }
  });

  it('refuses a key too short to sign with', () => {
    expect(() => new DecisionSigner(Buffer.alloc(8))).to.throw(/16 bytes/);
  });
});

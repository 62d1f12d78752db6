/**
 * The decision token: the `requestId` of every prediction. It carries, signed, what calibration
 * needs of the decision (the premodel that routed it, the request's group and accuracy target, the
 * operating point served, each model run with its answer and confidence), so that any replica
 * holding the key can take a label for it later without shared memory, and a forged or altered id
 * is refused. Compact binary, base64url: about 90 characters for a request that ran two models.
 *
 *   u8 version | 4 B premodel | u32 issued (s) | 8 B nonce | u16 target | u16 effective target |
 *   u16 point | u8+utf8 group | u8+utf8 task | u8 runs, each u8 rung, u16 class, u16 confidence |
 *   16 B HMAC-SHA256 of all before
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 1;
const MAC_BYTES = 16;
/** A u16 field that holds no value (no target, no operating point). */
const NONE = 0xffff;
const SHARE_SCALE = 10_000;
const CONFIDENCE_SCALE = 0xfffe;

/** One model run of the decision: which rung (its index in the zoo's rungs), its top class and confidence. */
export interface DecisionRun {
  rung: number;
  classIndex: number;
  confidence: number;
}

export interface Decision {
  task: string;
  /** First 8 hex digits of the routing premodel's dataHash: rung and point indices refer to it. */
  premodel: string;
  /** When it was issued, in whole seconds since the epoch. */
  issuedAtS: number;
  group: string | undefined;
  /** The accuracy target the request was served for (its own or the task's default); undefined: none. */
  target: number | undefined;
  /** The target the operating point was chosen for, online correction included. */
  effectiveTarget: number | undefined;
  /** Index of the served operating point in the premodel's calibration; undefined: not routed by a point. */
  point: number | undefined;
  /** The models run, in order; the answer is the last one's. */
  runs: DecisionRun[];
}

/** Thrown for a token that does not parse or whose signature does not match. */
export class TokenError extends Error {}

/** SHA-256's block, in bytes: HMAC pads its key to it. */
const SHA256_BLOCK = 64;

/**
 * HMAC-SHA256 (RFC 2104) of one-shot hashes over keys padded once: every answer signs its
 * decision, and node's Hmac object costs several times the two hashes it wraps.
 */
class Hmac256 {
  private readonly inner = Buffer.alloc(SHA256_BLOCK, 0x36);
  private readonly outer = Buffer.alloc(SHA256_BLOCK + 32, 0x5c);

  constructor(key: Buffer) {
    const k = key.length > SHA256_BLOCK ? createHash('sha256').update(key).digest() : key;
    for (let i = 0; i < k.length; i++) {
      this.inner[i]! ^= k[i]!;
      this.outer[i]! ^= k[i]!;
    }
  }

  /** The MAC of `message`, whose first SHA256_BLOCK bytes the caller left free for the inner pad. */
  digest(padded: Buffer): Buffer {
    this.inner.copy(padded, 0);
    const outer = Buffer.from(this.outer);
    hash('sha256', padded, 'buffer').copy(outer, SHA256_BLOCK);
    return hash('sha256', outer, 'buffer');
  }

  of(message: Buffer): Buffer {
    const padded = Buffer.allocUnsafe(SHA256_BLOCK + message.length);
    message.copy(padded, SHA256_BLOCK);
    return this.digest(padded);
  }
}

const share = (v: number | undefined) => (v === undefined ? NONE : Math.round(v * SHARE_SCALE));
const unshare = (v: number) => (v === NONE ? undefined : v / SHARE_SCALE);

/** Signs and verifies decision tokens with one key (FEEDBACK_KEY, or the feedback store's key file). */
export class DecisionSigner {
  /** Random per process: with the counter, no two tokens of one process are alike, nor two processes'. */
  private readonly prefix = randomBytes(4);
  private counter = 0;
  private readonly hmac: Hmac256;
  /** Task names and groups as UTF-8: a service has few of either. */
  private readonly utf8 = new Map<string, Buffer>();

  constructor(key: Buffer) {
    if (key.length < 16) throw new Error('the decision key must have at least 16 bytes');
    this.hmac = new Hmac256(key);
  }

  private bytesOf(text: string): Buffer {
    let bytes = this.utf8.get(text);
    if (bytes === undefined) {
      bytes = Buffer.from(text, 'utf8');
      if (this.utf8.size < 1024) this.utf8.set(text, bytes);
    }
    return bytes;
  }

  sign(decision: Decision): string {
    const group = this.bytesOf(decision.group ?? '');
    const task = this.bytesOf(decision.task);
    if (group.length > 255 || task.length > 255 || decision.runs.length > 255) throw new Error('decision too large for a token');
    const length = 1 + 4 + 4 + 8 + 6 + 1 + group.length + 1 + task.length + 1 + 5 * decision.runs.length;
    // The body is written after room for the MAC's inner pad, and signed in place.
    const padded = Buffer.allocUnsafe(SHA256_BLOCK + length);
    const body = padded.subarray(SHA256_BLOCK);
    let at = body.writeUInt8(VERSION, 0);
    at += body.write(decision.premodel.padEnd(8, '0').slice(0, 8), at, 'hex');
    at = body.writeUInt32BE(decision.issuedAtS >>> 0, at);
    at += this.prefix.copy(body, at);
    at = body.writeUInt32BE((this.counter = (this.counter + 1) >>> 0), at);
    at = body.writeUInt16BE(share(decision.target), at);
    at = body.writeUInt16BE(share(decision.effectiveTarget), at);
    at = body.writeUInt16BE(decision.point ?? NONE, at);
    at = body.writeUInt8(group.length, at);
    at += group.copy(body, at);
    at = body.writeUInt8(task.length, at);
    at += task.copy(body, at);
    at = body.writeUInt8(decision.runs.length, at);
    for (const run of decision.runs) {
      at = body.writeUInt8(run.rung, at);
      at = body.writeUInt16BE(run.classIndex, at);
      at = body.writeUInt16BE(Math.round(Math.min(1, Math.max(0, run.confidence)) * CONFIDENCE_SCALE), at);
    }
    const token = Buffer.allocUnsafe(length + MAC_BYTES);
    body.copy(token, 0);
    this.hmac.digest(padded).copy(token, length, 0, MAC_BYTES);
    return token.toString('base64url');
  }

  /** The decision a token holds, and its signature (hex: what identifies it); throws TokenError. */
  verify(token: string): { decision: Decision; id: string } {
    const bytes = Buffer.from(token, 'base64url');
    if (bytes.length < 26 + MAC_BYTES || bytes.toString('base64url') !== token) throw new TokenError('is not a requestId this service issued');
    const body = bytes.subarray(0, bytes.length - MAC_BYTES);
    const given = bytes.subarray(bytes.length - MAC_BYTES);
    if (!timingSafeEqual(given, this.mac(body))) throw new TokenError('has a signature that does not match: it was altered, or issued with another key');
    if (body.readUInt8(0) !== VERSION) throw new TokenError(`has version ${body.readUInt8(0)}; this service reads version ${VERSION}`);
    try {
      return { decision: parse(body), id: given.toString('hex') };
    } catch {
      throw new TokenError('is malformed');
    }
  }

  private mac(body: Buffer): Buffer {
    return this.hmac.of(body).subarray(0, MAC_BYTES);
  }
}

function parse(body: Buffer): Decision {
  let at = 1;
  const premodel = body.toString('hex', at, (at += 4));
  const issuedAtS = body.readUInt32BE(at);
  at += 4 + 8; // the nonce
  const target = unshare(body.readUInt16BE(at));
  const effectiveTarget = unshare(body.readUInt16BE(at + 2));
  const point = body.readUInt16BE(at + 4);
  at += 6;
  const text = () => {
    const length = body.readUInt8(at);
    const value = body.toString('utf8', at + 1, at + 1 + length);
    at += 1 + length;
    return value;
  };
  const group = text();
  const task = text();
  const count = body.readUInt8(at++);
  const runs: DecisionRun[] = [];
  for (let i = 0; i < count; i++, at += 5) {
    runs.push({ rung: body.readUInt8(at), classIndex: body.readUInt16BE(at + 1), confidence: body.readUInt16BE(at + 3) / CONFIDENCE_SCALE });
  }
  if (at !== body.length) throw new Error('trailing bytes');
  return { task, premodel, issuedAtS, group: group === '' ? undefined : group, target, effectiveTarget, point: point === NONE ? undefined : point, runs };
}

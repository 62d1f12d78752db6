/**
 * Base64 as clients send it in JSON (an image, a head's bottleneck): standard or URL-safe, padded
 * or not, whitespace ignored, an optional data: URL prefix whose media type becomes the declared
 * one. Anything else is a 400 naming the field.
 */
import { BadRequestError } from '../errors/index.js';

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)(;[\w-]+=[\w.-]+)*;base64,/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The bytes of `text`, and the media type its data: URL prefix declared, if any. */
export function decodeBase64(text: string, field: string): { bytes: Uint8Array; declaredType: string | undefined } {
  const declaredType = DATA_URL.exec(text)?.[1]?.toLowerCase();
  const body = text.replace(DATA_URL, '').replace(/\s+/g, '');
  if (body.length === 0 || !BASE64.test(body) || body.replace(/=+$/, '').length % 4 === 1) {
    throw new BadRequestError(`${field} is not valid base64`);
  }
  return { bytes: Buffer.from(body, 'base64'), declaredType };
}

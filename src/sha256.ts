import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';
import type { Checksum, SourceData } from '@smithy/types';

/** HMAC keys recently used. SigV4 signs every token with the same two keys (the day's signing key, and the secret
 * that smithy's key cache hashes), and Node's createHmac is several times slower with raw bytes than with a KeyObject. */
const keyObjects = new Map<string, KeyObject>();
const MAX_KEYS = 8;

/** SHA-256 and HMAC-SHA-256 on node:crypto for @smithy/signature-v4, with HMAC keys kept as KeyObjects. */
export class Sha256 implements Checksum {
  private state: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.state = this.fresh();
  }

  update(data: SourceData): void {
    this.state.update(toBuffer(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.state.digest());
  }

  reset(): void {
    this.state = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', keyObject(toBuffer(this.secret)));
  }
}

function keyObject(key: Buffer): KeyObject {
  const id = key.toString('base64');
  let cached = keyObjects.get(id);
  if (cached === undefined) {
    cached = createSecretKey(key);
    if (keyObjects.size >= MAX_KEYS) {
      const oldest = keyObjects.keys().next();
      if (!oldest.done) keyObjects.delete(oldest.value);
    }
    keyObjects.set(id, cached);
  }
  return cached;
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

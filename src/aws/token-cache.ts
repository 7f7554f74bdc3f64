import { createHash } from 'node:crypto';
import type { AwsCredentials } from '../config.js';
import { TOKEN_REUSE_MS } from '../constants.js';
import { warm } from '../state.js';
import { mintEksToken } from './token.js';

/** A token ready to send, and whether it came from the cache (a 401 on a cached token earns one re-mint). */
export interface IssuedToken {
  readonly token: string;
  readonly fromCache: boolean;
}

/** Returns the cached token while it is younger than TOKEN_REUSE_MS and minted from the same credentials, region
 * and cluster; otherwise mints and caches a new one. `now` is the clock reading, in ms. */
export async function issueEksToken(
  credentials: AwsCredentials,
  region: string,
  clusterName: string,
  now: number,
): Promise<IssuedToken> {
  const key = cacheKey(credentials, region, clusterName);
  const cached = warm.token;
  if (cached && cached.key === key && now >= cached.mintedAt && now - cached.mintedAt < TOKEN_REUSE_MS) {
    return { token: cached.token, fromCache: true };
  }
  const token = await mintEksToken({ credentials, region, clusterName, signingDate: new Date(now) });
  warm.token = { token, mintedAt: now, key };
  return { token, fromCache: false };
}

/** Forgets the cached token, so that the next call mints a fresh one. */
export function dropCachedToken(): void {
  delete warm.token;
}

/** A digest, so the cache never holds a second copy of the secret key or session token in the clear. */
function cacheKey(credentials: AwsCredentials, region: string, clusterName: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        credentials.accessKeyId,
        credentials.secretAccessKey,
        credentials.sessionToken ?? '',
        region,
        clusterName,
      ]),
    )
    .digest('hex');
}

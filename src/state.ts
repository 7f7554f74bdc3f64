import type { ClusterEndpoint, FunctionConfig } from './config.js';

/** A minted token and what it was minted from, so that a change of credentials or cluster is noticed. */
export interface CachedToken {
  readonly token: string;
  readonly mintedAt: number;
  readonly key: string;
}

/** Something holding sockets that must be closed when the state is reset. */
export interface Closable {
  close(): void;
}

/** Everything the function keeps between warm invocations of one execution environment, in one place. */
export interface WarmState {
  config?: FunctionConfig;
  cluster?: Promise<ClusterEndpoint>;
  token?: CachedToken;
  connection?: { readonly key: string; readonly value: Closable };
}

export const warm: WarmState = {};

/** Forgets everything cached and closes pooled connections, as a new execution environment would start. */
export function resetWarmState(): void {
  warm.connection?.value.close();
  delete warm.config;
  delete warm.cluster;
  delete warm.token;
  delete warm.connection;
}

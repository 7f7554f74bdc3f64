import type { Agent } from 'node:https';
import type { ClusterEndpoint, FunctionConfig } from './config.js';

/** A minted token and what it was minted from, so that a change of credentials or cluster is noticed. */
export interface CachedToken {
  readonly token: string;
  readonly mintedAt: number;
  readonly key: string;
}

/** The keep-alive connection pool to the API server, and when it last carried an answer (epoch ms). */
export interface PooledConnection {
  readonly key: string;
  readonly agent: Agent;
  lastUsedAt: number;
}

/** Everything the function keeps between warm invocations of one execution environment, in one place. */
export interface WarmState {
  config?: FunctionConfig;
  cluster?: Promise<ClusterEndpoint>;
  token?: CachedToken;
  connection?: PooledConnection;
  /** Set once the environment's first invocation has logged how Node was started. */
  runtimeLogged?: true;
  /** The resources of each group-version the function has discovered (`v1`, `apps/v1`), by kind. */
  discovery?: Map<string, ReadonlyMap<string, DiscoveredResource>>;
  /** The last manifest text parsed, and its documents. */
  manifest?: { readonly text: string; readonly documents: readonly ParsedDocument[] };
}

/** One YAML document of a manifest: its value as JSON, or the parser's complaint (src/manifests/manifest-yaml.ts). */
export type ParsedDocument = { readonly value: unknown } | { readonly error: string };

/** A kind as the API server's discovery lists it. */
export interface DiscoveredResource {
  /** The plural resource name of the REST path. */
  readonly plural: string;
  readonly namespaced: boolean;
}

export const warm: WarmState = {};

/** Forgets everything cached and closes pooled connections, as a new execution environment would start. */
export function resetWarmState(): void {
  warm.connection?.agent.destroy();
  delete warm.config;
  delete warm.cluster;
  delete warm.token;
  delete warm.connection;
  delete warm.runtimeLogged;
  delete warm.discovery;
  delete warm.manifest;
}

import type { BuildOptions } from 'esbuild';

/** The function's entry points, by output name. */
export const FUNCTION_ENTRIES: Record<string, string>;

/** Options shared by every bundle (see esbuild.config.mjs). */
export function bundleOptions(entryPoints: Record<string, string>, outdir: string): BuildOptions;

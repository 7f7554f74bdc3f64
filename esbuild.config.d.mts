import type { BuildOptions, Metafile, Plugin } from 'esbuild';

export const KUBE_MODEL_ROOTS: string[];
export function bundleOptions(entryPoints: Record<string, string> | undefined, outdir: string): BuildOptions;
export function buildFunction(outdir: string): Promise<{ vendor: Metafile; index: Metafile; describe: Metafile }>;
export function trimmedModels(roots?: string[]): Plugin;
export function trimSerializer(source: string, modelsDir: string, roots: string[]): Promise<string>;
export function runScript(entry: string, outfile: string): Promise<void>;

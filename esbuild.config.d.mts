import type { BuildOptions, Metafile, Plugin } from 'esbuild';

export const KUBE_MODEL_ROOTS: string[];
export function bundleOptions(entryPoints: Record<string, string> | undefined, outdir: string): BuildOptions;
export interface BuildChoices {
  keepNames: boolean;
  vendorKeepNames: boolean;
  trimModels: boolean;
  lineMap: boolean;
  lazyBuiltins: boolean;
}
export const SHIPPED: BuildChoices;
export function buildFunction(
  outdir: string,
  choices?: Partial<BuildChoices>,
): Promise<{ vendor: Metafile; index: Metafile; describe: Metafile; yaml: Metafile }>;
export const lazyBuiltins: Plugin;
export function lineMap(json: string): string;
export function loadedAtImport(outdir: string, entry?: string): string[];
export function trimmedModels(roots?: string[]): Plugin;
export function trimSerializer(source: string, modelsDir: string, roots: string[]): Promise<string>;
export function runScript(entry: string, outfile: string): Promise<void>;

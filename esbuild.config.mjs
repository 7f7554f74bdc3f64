// The one esbuild configuration: build-handler.sh bundles the function with it and the benchmark bundles its
// baseline with the same options. Usage: node esbuild.config.mjs <outdir> [<name>=<entry.ts> ...]
// (without entries: the function's own, FUNCTION_ENTRIES)
import { build } from 'esbuild';

/** The function's entry points: the handler, and the DescribeCluster call with the AWS SDK, which the handler imports
 * only when it has to discover its cluster (see src/describe-cluster.ts). */
export const FUNCTION_ENTRIES = { index: 'src/handler.ts', 'describe-cluster': 'src/aws/describe-cluster.ts' };

/** client-node's generated client imports undici for its default fetch library; we give it our own HTTP library,
 * so undici is never called. Marking it side-effect free lets esbuild drop its 700 KB. */
const undiciUnused = {
  name: 'undici-unused',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^undici$/ }, async (args) => {
      if (args.pluginData === 'undici-unused') {
        return undefined;
      }
      const resolved = await pluginBuild.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        importer: args.importer,
        pluginData: 'undici-unused',
      });
      return { ...resolved, sideEffects: false };
    });
  },
};

/** Each entry point becomes one self-contained file; `import('./describe-cluster.js')` stays a run-time import of
 * the sibling file instead of being inlined. */
const siblingEntries = {
  name: 'sibling-entries',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/describe-cluster\.js$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: './describe-cluster.mjs', external: true } : undefined,
    );
  },
};

/** Options shared by every bundle: ES modules for Node 24 (Lambda nodejs24.x), minified, with source maps. */
export function bundleOptions(entryPoints, outdir) {
  return {
    entryPoints,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    // Error class names survive minification: Lambda's runtime logs an error's constructor name as errorType.
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    // The AWS SDK ships ES modules under "module": they tree-shake far better than its CommonJS "main".
    mainFields: ['module', 'main'],
    // Some dependencies are CommonJS and call require() for Node built-ins; an ES module has no require.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [undiciUnused, siblingEntries],
    logLevel: 'warning',
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [outdir, ...pairs] = process.argv.slice(2);
  const entryPoints = pairs.length > 0 ? Object.fromEntries(pairs.map((pair) => pair.split('='))) : FUNCTION_ENTRIES;
  if (!outdir || Object.values(entryPoints).some((entry) => !entry)) {
    console.error('usage: node esbuild.config.mjs <outdir> [<name>=<entry.ts> ...]');
    process.exit(2);
  }
  await build(bundleOptions(entryPoints, outdir));
}

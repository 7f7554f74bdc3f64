// The one esbuild configuration: build-handler.sh bundles the function with it and the benchmark bundles its
// baseline with the same flags. Usage: node esbuild.config.mjs <entry.ts> <outfile.mjs> [metafile.json]
import { writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

/** client-node's generated client imports undici for its default fetch library; we give it our own HTTP library,
 * so undici is never called. Marking it side-effect free lets esbuild drop its 700 KB from the bundle. */
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

/** Options shared by every bundle: one ESM file for Node 24 (Lambda nodejs24.x), minified, with a source map. */
export function bundleOptions(entry, outfile, { dropUndici = true } = {}) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
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
    plugins: dropUndici ? [undiciUnused] : [],
    logLevel: 'warning',
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [entry, outfile, metafile] = process.argv.slice(2);
  if (!entry || !outfile) {
    console.error('usage: node esbuild.config.mjs <entry.ts> <outfile.mjs> [metafile.json]');
    process.exit(2);
  }
  const result = await build(bundleOptions(entry, outfile));
  if (metafile) {
    await writeFile(metafile, JSON.stringify(result.metafile));
  }
}

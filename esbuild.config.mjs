// The one esbuild configuration. build-handler.sh builds the function with `buildFunction`; the benchmark builds its
// baseline with `bundleOptions`, the same options in a single file.
// Usage: node esbuild.config.mjs <outdir>
//
// The function is three files in dist/:
//   index.mjs             our code (src/), with its source map: stack traces show src/*.ts frames; the map is
//                         coarsened to lines (lineMap), which Node decodes at the first stack it formats
//   vendor.mjs            the libraries our code imports, without a source map: Node (--enable-source-maps) reads
//                         and measures every line of a file that has a map comment, which for 300 KB of libraries
//                         costs more at import than our code's whole map
//   describe-cluster.mjs  the AWS SDK's DescribeCluster, imported only when the function has to discover its cluster
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';

/** The @kubernetes/client-node models the function sends or reads (src/kube/client.ts): the bundle keeps only these
 * and the models their fields reach. Sending or reading any other model throws (see trimmedModels). */
export const KUBE_MODEL_ROOTS = ['V1Deployment', 'V1DeleteOptions', 'V1Status', 'V1PodList', 'V1ReplicaSetList'];

const SERIALIZER = /@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/]models[\\/]ObjectSerializer\.js$/;

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

/** Node built-ins that a library imports for code the function never runs, with the names imported: @smithy/hash-node
 * reaches the AWS SDK's shared config file loader through @smithy/core, which esbuild cannot drop, and whose import
 * of node:fs/promises alone compiled for ~10 ms at every cold start (Lambda's flags make Node reject its code cache).
 * Each name becomes a function that loads the built-in on its first call. Importing any other name, or a namespace
 * whose members are read, fails the build, so nothing can silently be undefined. */
const LAZY_BUILTINS = { 'node:fs/promises': ['readFile'], 'node:os': ['homedir', 'platform', 'release'] };

export const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:(fs\/promises|os)$/ }, (args) => ({ path: args.path, namespace: 'lazy' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy' }, ({ path }) => ({
      contents: LAZY_BUILTINS[path]
        .map(
          (name) =>
            `export function ${name}(...args) { return process.getBuiltinModule(${JSON.stringify(path)}).${name}(...args); }`,
        )
        .join('\n'),
      loader: 'js',
    }));
  },
};

/** client-node's ObjectSerializer imports all 757 generated models for one lookup table; the function uses a few
 * dozen. This rewrites the table to the models reachable from KUBE_MODEL_ROOTS through their attributeTypeMap (read
 * from the models themselves at build time), and makes a lookup of any other model throw instead of silently passing
 * the data through untyped. The names the full table does not know either (IntOrString, V1MicroTime) pass through,
 * as before. The build fails if client-node's serializer no longer has the shape this expects. */
export function trimmedModels(roots = KUBE_MODEL_ROOTS) {
  return {
    name: 'trimmed-models',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: SERIALIZER }, async ({ path }) => ({
        contents: await trimSerializer(readFileSync(path, 'utf8'), dirname(path), roots),
        loader: 'js',
      }));
    },
  };
}

/** The serializer's source, trimmed to the models reachable from `roots`; also returns nothing else. */
export async function trimSerializer(source, modelsDir, roots) {
  const files = new Map(
    [...source.matchAll(/^import \{ (\w+) \} from '\.\.\/models\/(\w+)\.js';$/gm)].map(([, name, file]) => [
      name,
      file,
    ]),
  );
  const attributeTypes = async (name) => {
    const file = files.get(name);
    if (file === undefined) return undefined;
    const module = await import(pathToFileURL(join(modelsDir, `${file}.js`)).href);
    return module[name].attributeTypeMap.map((attribute) => attribute.type);
  };
  const keep = new Set();
  const unknown = new Set();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop();
    if (keep.has(name) || unknown.has(name)) continue;
    const types = await attributeTypes(name);
    if (types === undefined) {
      unknown.add(name);
      continue;
    }
    keep.add(name);
    for (const type of types) {
      const inner = baseType(type);
      if (!PRIMITIVES.has(inner.toLowerCase()) && inner !== 'Date') pending.push(inner);
    }
  }
  const missingRoots = roots.filter((root) => !keep.has(root));
  if (missingRoots.length > 0) {
    throw new Error(`trimmed-models: ${missingRoots.join(', ')} are not client-node models`);
  }
  let guards = 0;
  const trimmed = source
    // The serializer re-exports every model; the function imports models from their own files.
    .replace(/^export \* from '\.\.\/models\/\w+\.js';\n/gm, '')
    .replace(/^import \{ (\w+) \} from '\.\.\/models\/\w+\.js';\n/gm, (line, name) => (keep.has(name) ? line : ''))
    .replace(/^ {4}"(\w+)": \w+,\n/gm, (line, name) => (files.has(name) && !keep.has(name) ? '' : line))
    .replace(/if \(!typeMap\[type\]\) \{/g, () => {
      guards += 1;
      return 'if (!typeMap[type]) { untrimmed(type);';
    });
  if (guards !== 2 || !/^let typeMap = \{$/m.test(trimmed)) {
    throw new Error('trimmed-models: client-node ObjectSerializer.js changed shape; update esbuild.config.mjs');
  }
  const passThrough = JSON.stringify([...unknown]);
  return (
    `${trimmed}\n` +
    `const passThrough = new Set(${passThrough});\n` +
    'function untrimmed(type) {\n' +
    '  if (!passThrough.has(type)) {\n' +
    '    throw new Error(`@kubernetes/client-node model ${type} was left out of the bundle: add it to KUBE_MODEL_ROOTS ' +
    'in esbuild.config.mjs`);\n' +
    '  }\n' +
    '}\n'
  );
}

const PRIMITIVES = new Set(['string', 'boolean', 'double', 'integer', 'long', 'float', 'number', 'any']);

function baseType(type) {
  const plain = type.replace(/ \| (null|undefined)$/, '');
  if (plain.startsWith('Array<')) return baseType(plain.slice('Array<'.length, -1));
  if (plain.startsWith('{ [key: string]: ')) return baseType(plain.slice('{ [key: string]: '.length, -'; }'.length));
  return plain;
}

/** Options shared by every bundle: ES modules for Node 24 (Lambda nodejs24.x), minified, class names kept. */
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
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    // The AWS SDK ships ES modules under "module": they tree-shake far better than its CommonJS "main".
    mainFields: ['module', 'main'],
    // Some dependencies are CommonJS and call require() for Node built-ins; an ES module has no require.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [undiciUnused],
    logLevel: 'warning',
  };
}

/** A package import (not relative, not node:): the libraries that go to vendor.mjs. */
const PACKAGE = /^[@\w][\w.-]*(\/[\w.-]+)*(\/.*)?$/;

/** The shipped build's design choices, each of which the benchmark turns off once to measure what it is worth. */
export const SHIPPED = { keepNames: true, vendorKeepNames: false, trimModels: true, lineMap: true, lazyBuiltins: true };

/** Builds the function into `outdir`: index.mjs and its chunks (+ maps), vendor.mjs, describe-cluster.mjs,
 * manifest-yaml.mjs. Returns the esbuild
 * metafiles, by file. `choices` is for the benchmark; the function is built with SHIPPED. */
export async function buildFunction(outdir, choices = SHIPPED) {
  const { keepNames, vendorKeepNames, trimModels, lineMap: coarsen, lazyBuiltins: lazy } = { ...SHIPPED, ...choices };
  const handler = 'src/handler.ts';
  // 1. Which names our code imports from which library, as esbuild itself resolves them (types erased).
  const probe = await build({
    entryPoints: [handler],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'silent',
    plugins: [externalPackages((path) => ({ path, external: true })), siblingEntries],
  });
  const imports = libraryImports(probe.outputFiles[0]?.text ?? '');
  // 2. vendor.mjs re-exports exactly those, bundled and trimmed, without a source map.
  const vendor = await build({
    ...bundleOptions(undefined, outdir),
    entryPoints: undefined,
    stdin: { contents: vendorEntry(imports), resolveDir: process.cwd(), sourcefile: 'vendor.mjs', loader: 'js' },
    outdir: undefined,
    outfile: join(outdir, 'vendor.mjs'),
    // Our error classes are in index.mjs; the libraries' names are never reported. Keeping them adds a __name call
    // for each of their functions and classes (9 KB); the benchmark measures it ("keepNames in vendor.mjs too").
    keepNames: vendorKeepNames,
    plugins: [undiciUnused, ...(trimModels ? [trimmedModels()] : []), ...(lazy ? [lazyBuiltins] : [])],
    logOverride: { 'import-is-undefined': 'error' },
  });
  // 3. index.mjs: our code, importing the libraries from ./vendor.mjs, with its source map.
  const index = await build({
    ...bundleOptions({ index: handler }, outdir),
    // The set engine, imported on first use, becomes a chunk of its own; what it shares with the handler stays in
    // index.mjs's own chunk, loaded once (one module state, one warm cache).
    splitting: true,
    chunkNames: '[name]-[hash]',
    sourcemap: true,
    sourcesContent: false,
    banner: undefined,
    keepNames,
    plugins: [externalPackages(() => ({ path: './vendor.mjs', external: true })), siblingEntries],
  });
  if (coarsen) {
    for (const file of Object.keys(index.metafile.outputs).filter((output) => output.endsWith('.mjs.map'))) {
      writeFileSync(file, lineMap(readFileSync(file, 'utf8')));
    }
  }
  // 4. describe-cluster.mjs: the AWS SDK call on its own; manifest-yaml.mjs: the YAML parser, for the manifest
  // actions only. Each is loaded on first use, so that neither costs the Deployment actions anything at import.
  const describe = await build(bundleOptions({ 'describe-cluster': 'src/aws/describe-cluster.ts' }, outdir));
  const yaml = await build(bundleOptions({ 'manifest-yaml': 'src/manifests/manifest-yaml.ts' }, outdir));
  return { vendor: vendor.metafile, index: index.metafile, describe: describe.metafile, yaml: yaml.metafile };
}

/** The files of `outdir` that importing `entry` loads: it and what it imports statically (vendor.mjs, the chunks
 * it shares with the parts loaded on first use), not those parts. What Lambda loads for every invocation. */
export function loadedAtImport(outdir, entry = 'index.mjs') {
  const loaded = new Set();
  const visit = (file) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    const code = readFileSync(join(outdir, file), 'utf8');
    for (const [, imported] of code.matchAll(
      /(?:^|[;\s}])(?:import|export)\s*(?:[^"'();]*?from\s*)?"\.\/([^"]+\.mjs)"/g,
    )) {
      visit(imported);
    }
  };
  visit(entry);
  return [...loaded];
}

/** A source map that maps to source lines, not tokens: of each run of segments on one source line only the first,
 * and no names. Node (--enable-source-maps) decodes a file's whole map, in JavaScript, when it formats the first stack
 * through that file: esbuild's map of index.mjs has ~9,500 segments, which under --jitless took ~25 ms at a function's
 * first error; one per source line is a quarter of them. Frames keep their file and line; the column becomes that of
 * the line's first mapped token, and the function names are V8's own, which keepNames makes the source's. */
export function lineMap(json) {
  const map = JSON.parse(json);
  const lines = decode(map.mappings).map((segments) => {
    const kept = [];
    let previous;
    for (const segment of segments) {
      const sourceLine = segment.length === 1 ? undefined : `${segment[1]}:${segment[2]}`;
      if (sourceLine !== undefined && sourceLine === previous) continue;
      previous = sourceLine;
      kept.push(segment.length === 5 ? [segment[0], segment[1], segment[2], segment[3]] : segment);
    }
    return kept;
  });
  return JSON.stringify({ ...map, mappings: encode(lines), names: [] });
}

/** `import('./describe-cluster.js')` and `import('./manifest-yaml.js')` stay run-time imports of the sibling files. */
const siblingEntries = {
  name: 'sibling-entries',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/(describe-cluster|manifest-yaml)\.js$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path.replace(/\.js$/, '.mjs'), external: true } : undefined,
    );
  },
};

function externalPackages(resolve) {
  return {
    name: 'external-packages',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: PACKAGE }, (args) =>
        args.kind === 'entry-point' || args.path.startsWith('node:') ? undefined : resolve(args.path),
      );
    },
  };
}

/** The named imports of an unminified esbuild ES module output, by package. Fails on any other import form. */
function libraryImports(code) {
  const byPackage = new Map();
  for (const [statement, names, from] of code.matchAll(/^import ([^;]*?) from "([^"]+)";$/gms)) {
    if (from.startsWith('node:')) continue;
    const list = /^\{([^}]*)\}$/s.exec(names.trim());
    if (list === null) throw new Error(`buildFunction: cannot split the bundle at "${statement}"`);
    const named = list[1]
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    byPackage.set(from, [...(byPackage.get(from) ?? []), ...named]);
  }
  if (/^import "/m.test(code)) throw new Error('buildFunction: a side-effect-only import cannot be split');
  return byPackage;
}

function vendorEntry(imports) {
  const exported = new Map();
  const lines = [];
  for (const [from, names] of imports) {
    const imported = [...new Set(names.map((name) => name.split(/\s+as\s+/)[0]))];
    for (const name of imported) {
      if (exported.has(name) && exported.get(name) !== from) {
        throw new Error(`buildFunction: ${name} is imported from both ${exported.get(name)} and ${from}`);
      }
      exported.set(name, from);
    }
    lines.push(`export { ${imported.join(', ')} } from ${JSON.stringify(from)};`);
  }
  return lines.join('\n');
}

/** Compiles a TypeScript script of the project (its dependencies left in node_modules) into `outfile` and runs it:
 * how npm run bench and npm run demo start. */
export async function runScript(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  await import(pathToFileURL(join(process.cwd(), outfile)).href);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [outdir, ...rest] = process.argv.slice(2);
  if (!outdir || rest.length > 0) {
    console.error('usage: node esbuild.config.mjs <outdir>');
    process.exit(2);
  }
  await buildFunction(outdir);
}

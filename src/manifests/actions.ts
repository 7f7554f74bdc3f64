// The set actions, as one module the Lambda edge imports on first use: the set engine is its own part of the bundle,
// so that the Deployment actions do not load it (esbuild splits at this dynamic import).
export { applyManifest } from './apply.js';
export { deleteManifest } from './delete.js';
export { getManifest } from './get.js';
export { resolveManifest } from './source.js';

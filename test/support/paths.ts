// Where the project is, for the test support code and the scripts built from it.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder. Scripts compiled into test/out/ sit as deep as their sources in test/support/. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where npm run cluster writes the running cluster's settings (NAME=value lines) and npm run invoke reads them. */
export const CLUSTER_STATE_FILE = resolve(PROJECT_ROOT, '.cluster/state.env');

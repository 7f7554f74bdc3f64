// The jest hooks the test files share: one test bed per file, cleaned between tests and stopped after the file.
import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import { resetWarmState } from '../../src/state.js';
import { startTestBed, type TestBed } from './fixture.js';
import type { StandInOptions } from './kube-apiserver.js';
import { LambdaEnvironment, type EnvironmentOptions } from './lambda.js';

export interface BedScope {
  /** The file's test bed (started in beforeAll). */
  readonly bed: TestBed;
  /** Starts an execution environment of the bundle with `env` (default: the bed's), stopped after the test. */
  environment(env?: Record<string, string>, options?: EnvironmentOptions): Promise<LambdaEnvironment>;
}

export interface BedOptions {
  /** Stand-in options for this file. */
  readonly overrides?: Partial<StandInOptions>;
  /** Runs after the file, once the stand-in has stopped. */
  readonly cleanup?: () => Promise<void> | void;
}

/** Registers the hooks: a test bed for the file; after each test, its environments stopped, the stand-in reset and
 * the in-process warm state cleared (as a new execution environment would start); after the file, all stopped. */
export function useTestBed({ overrides, cleanup }: BedOptions = {}): BedScope {
  let current: TestBed | undefined;
  const environments: LambdaEnvironment[] = [];
  const scope: BedScope = {
    get bed(): TestBed {
      if (current === undefined) throw new Error('the test bed starts in beforeAll');
      return current;
    },
    async environment(env?: Record<string, string>, options?: EnvironmentOptions): Promise<LambdaEnvironment> {
      const started = await LambdaEnvironment.start(env ?? scope.bed.env, options);
      environments.push(started);
      return started;
    },
  };
  beforeAll(async () => {
    current = await startTestBed(overrides);
  });
  beforeEach(() => {
    resetWarmState();
  });
  afterEach(async () => {
    await Promise.all(environments.splice(0).map((lambda) => lambda.stop()));
    current?.server.reset();
  });
  afterAll(async () => {
    resetWarmState();
    await current?.server.stop();
    await cleanup?.();
  });
  return scope;
}

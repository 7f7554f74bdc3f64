import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useCluster } from '../support/cluster.js';
import { CLUSTER_NAME } from '../support/fixture.js';
import { invokeInProcess } from '../support/in-process.js';
import { DEFAULT_MEMORY_SIZE_MB, lambdaNodeArgs, memorySizeOf } from '../support/lambda-bootstrap.mjs';
import { restPath } from '../support/kube-admin.js';
import { MEMORY_SIZE_MB } from '../support/lambda-context.mjs';
import { PROJECT_ROOT, templateMemorySize, type Invocation } from '../support/lambda.js';
import { MAX_PAYLOAD_BYTES, RuntimeApiServer } from '../support/runtime-api.js';

// The tests' execution environments run the bundle under Lambda's own Node.js runtime (aws-lambda-ric) against a
// local Runtime API. These tests pin what that shows: the flags Lambda starts Node with, the Runtime API's answers,
// the log records as CloudWatch stores them in JSON format, Lambda's application log level, how a thrown error reaches
// the invoker and the log, and that the in-process runner (which calls src/handler.ts directly) agrees with it. The
// function talks to the real control plane, through the file's fault proxy.
const scope = useCluster({ namespaces: { 'team-a': ['create'], locked: [] } });

const ARN = 'arn:aws:lambda:us-west-2:111122223333:function:runtime-api-test';

interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request to a Runtime API, on its own connection. */
function call(
  api: RuntimeApiServer,
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const [host, port] = api.address.split(':');
  return new Promise((resolveAnswer, reject) => {
    const outgoing = request(
      { host, port: Number(port), method, path, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolveAnswer({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const NEXT = '/2018-06-01/runtime/invocation/next';
const invocationPath = (id: string, kind: 'response' | 'error'): string =>
  `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/${kind}`;

async function withApi(test: (api: RuntimeApiServer) => Promise<void>): Promise<void> {
  const api = await RuntimeApiServer.start({ functionArn: ARN });
  try {
    await test(api);
  } finally {
    await api.stop();
  }
}

describe('lambdaNodeArgs', () => {
  it.each([
    [128, 6, 116],
    [256, 12, 231],
    [1024, 51, 922],
    [1769, 88, 1593],
    [10_240, 512, 9216],
  ])(
    'gives a %i MB function a %i MB semi-space and a %i MB old space, as the bootstrap script computes',
    (memory, semi, old) => {
      const args = lambdaNodeArgs(memory);

      expect(args).toEqual([
        '--expose-gc',
        '--max-http-header-size',
        '81920',
        `--max-semi-space-size=${semi}`,
        `--max-old-space-size=${old}`,
      ]);
    },
  );

  it.each([127, 10_241, 256.5, Number.NaN])('refuses %p MB, a memory size Lambda does not accept', (memory) => {
    expect(() => lambdaNodeArgs(memory)).toThrow(RangeError);
  });
});

describe('memorySizeOf', () => {
  const fn = (properties: Record<string, unknown>) => ({ Type: 'AWS::Serverless::Function', Properties: properties });

  it('reads the function, then Globals.Function, then SAM default', () => {
    const own = memorySizeOf({
      Globals: { Function: { MemorySize: 512 } },
      Resources: { F: fn({ MemorySize: 1024 }) },
    });
    const global = memorySizeOf({ Globals: { Function: { MemorySize: 512 } }, Resources: { F: fn({}) } });
    const none = memorySizeOf({ Resources: { F: fn({}), Role: { Type: 'AWS::IAM::Role' } } });

    expect([own, global, none]).toEqual([1024, 512, DEFAULT_MEMORY_SIZE_MB]);
    expect(DEFAULT_MEMORY_SIZE_MB).toBe(128);
  });

  it('refuses a template with two functions or an intrinsic MemorySize', () => {
    expect(() => memorySizeOf({ Resources: { A: fn({}), B: fn({}) } })).toThrow(/2 AWS::Serverless::Function/);
    expect(() => memorySizeOf({ Resources: { A: fn({ MemorySize: { Ref: 'Memory' } }) } })).toThrow(/MemorySize/);
  });

  it("is the memory the in-process runner's context reports", () => {
    expect(templateMemorySize()).toBe(MEMORY_SIZE_MB);
  });
});

describe('the Runtime API', () => {
  it('hands the queued event to /next with the request id, deadline, function ARN and trace headers', async () => {
    await withApi(async (api) => {
      const before = Date.now();
      const queued = api.enqueue({ name: 'web' }, 3000);

      const next = await call(api, 'GET', NEXT);

      expect(next.status).toBe(200);
      expect(JSON.parse(next.body)).toEqual({ name: 'web' });
      expect(next.headers['lambda-runtime-aws-request-id']).toBe(queued.requestId);
      expect(next.headers['lambda-runtime-invoked-function-arn']).toBe(ARN);
      expect(next.headers['lambda-runtime-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};/);
      const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
      expect(deadline).toBeGreaterThanOrEqual(before + 3000);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 3000);
      expect((await queued.dispatched).deadlineMs).toBe(deadline);
    });
  });

  it('long-polls /next until an invocation is queued', async () => {
    await withApi(async (api) => {
      const next = call(api, 'GET', NEXT);
      await api.whenIdle();

      const queued = api.enqueue({}, 1000);

      expect((await next).headers['lambda-runtime-aws-request-id']).toBe(queued.requestId);
    });
  });

  it('accepts the response with 202 and hands the payload to the invoker', async () => {
    await withApi(async (api) => {
      const queued = api.enqueue({}, 3000);
      await call(api, 'GET', NEXT);

      const posted = await call(api, 'POST', invocationPath(queued.requestId, 'response'), '{"status":"created"}');

      expect(posted).toMatchObject({ status: 202, body: '{"status":"OK"}' });
      expect(await queued.outcome).toEqual({ kind: 'response', payload: '{"status":"created"}' });
    });
  });

  it('records the error document and its error-type header, with 202', async () => {
    await withApi(async (api) => {
      const queued = api.enqueue({}, 3000);
      await call(api, 'GET', NEXT);
      const document = { errorType: 'ConfigurationError', errorMessage: 'CLUSTER_NAME: is not set', trace: ['at x'] };

      const posted = await call(api, 'POST', invocationPath(queued.requestId, 'error'), JSON.stringify(document), {
        'Lambda-Runtime-Function-Error-Type': 'ConfigurationError',
      });

      expect(posted.status).toBe(202);
      expect(await queued.outcome).toMatchObject({
        kind: 'error',
        errorType: 'ConfigurationError',
        errorMessage: 'CLUSTER_NAME: is not set',
      });
      expect(api.errors).toEqual([
        {
          requestId: queued.requestId,
          errorTypeHeader: 'ConfigurationError',
          document,
          body: JSON.stringify(document),
        },
      ]);
    });
  });

  it('answers 400 InvalidRequestID for another request id and 403 for a response it did not ask for', async () => {
    await withApi(async (api) => {
      const early = await call(api, 'POST', invocationPath('no-event-yet', 'response'), '{}');
      const queued = api.enqueue({}, 3000);
      await call(api, 'GET', NEXT);
      const wrongId = await call(api, 'POST', invocationPath('someone-else', 'response'), '{}');
      await call(api, 'POST', invocationPath(queued.requestId, 'response'), '{}');
      const second = await call(api, 'POST', invocationPath(queued.requestId, 'error'), '{}');

      expect(early.status).toBe(403);
      expect(JSON.parse(early.body)).toMatchObject({ errorType: 'InvalidStateTransition' });
      expect(wrongId.status).toBe(400);
      expect(JSON.parse(wrongId.body)).toEqual({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      expect(second.status).toBe(403);
      expect(JSON.parse(second.body)).toMatchObject({
        errorType: 'InvalidStateTransition',
        errorMessage: expect.stringContaining('to InvocationErrorResponse'),
      });
    });
  });

  it('answers 413 to a response over 6 MiB and gives the invoker Function.ResponseSizeTooLarge', async () => {
    await withApi(async (api) => {
      const queued = api.enqueue({}, 3000);
      await call(api, 'GET', NEXT);

      const posted = await call(
        api,
        'POST',
        invocationPath(queued.requestId, 'response'),
        'x'.repeat(MAX_PAYLOAD_BYTES + 1),
      );

      expect(posted.status).toBe(413);
      expect(await queued.outcome).toMatchObject({ kind: 'error', errorType: 'Function.ResponseSizeTooLarge' });
    });
  });

  it('takes an init error once, before any event, and then refuses /next', async () => {
    await withApi(async (api) => {
      const document = { errorType: 'Runtime.ImportModuleError', errorMessage: 'Error: Cannot find module', trace: [] };

      const posted = await call(api, 'POST', '/2018-06-01/runtime/init/error', JSON.stringify(document), {
        'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError',
      });
      const next = await call(api, 'GET', NEXT);

      expect(posted.status).toBe(202);
      expect(await api.initialized).toMatchObject({ ok: false, error: { requestId: undefined, document } });
      expect(next.status).toBe(403);
    });
  });

  it('releases a pending long-poll and rejects what is queued when it stops', async () => {
    const api = await RuntimeApiServer.start({ functionArn: ARN });
    const next = call(api, 'GET', NEXT);
    await api.whenIdle();
    const queued = api.enqueue({}, 1000);
    await next;
    const second = api.enqueue({}, 1000);
    const waiting = call(api, 'GET', NEXT);

    await api.stop();

    await expect(waiting).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expect(queued.outcome).rejects.toThrow('the Runtime API stopped');
    await expect(second.dispatched).rejects.toThrow('the Runtime API stopped');
    expect(() => api.enqueue({}, 1000)).toThrow('stopped');
  });
});

const FIXTURE = join(PROJECT_ROOT, 'test/support/runtime-fixture/template.yml');
const MISSING_HANDLER = join(PROJECT_ROOT, 'test/support/runtime-fixture/missing-handler.yml');

describe('an execution environment', () => {
  const fixture = (options: { controllableClock?: boolean } = {}) =>
    scope.environment({}, { templatePath: FIXTURE, ...options });
  const answer = (invocation: Invocation): Record<string, unknown> => (invocation.ok ? invocation.result : {});

  it("starts Node with the flags of Lambda's bootstrap for the template's MemorySize", async () => {
    const lambda = await fixture();

    const invocation = await lambda.invoke({});

    expect(answer(invocation)['execArgv']).toEqual([
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      '--max-semi-space-size=6',
      '--max-old-space-size=116',
    ]);
  });

  it('kills the environment and rejects with Task timed out when the function outlives its timeout', async () => {
    const lambda = await fixture();

    const overrun = lambda.invoke({ sleepMs: 5000 }, 300);

    await expect(overrun).rejects.toThrow('Task timed out after 300 ms');
    await expect(lambda.invoke({})).rejects.toThrow('the environment has ended');
  });

  it('answers Runtime.ExitError when the runtime exits during an invocation', async () => {
    const lambda = await fixture();

    const invocation = await lambda.invoke({ exitCode: 3 });

    expect(invocation).toMatchObject({
      ok: false,
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${invocation.requestId} Error: Runtime exited with error: exit status 3`,
    });
  });

  it("fails to start with the runtime's init error when the handler is not exported", async () => {
    const started = scope.environment({}, { templatePath: MISSING_HANDLER });

    await expect(started).rejects.toThrow(
      /init failed: Runtime\.HandlerNotFound: index\.notExported is undefined or not exported/,
    );
  });

  it('reports a thrown string as Lambda does: errorType "string"', async () => {
    const lambda = await fixture();

    const invocation = await lambda.invoke({ throwString: 'not an Error' });

    expect(invocation).toMatchObject({ ok: false, errorType: 'string', errorMessage: 'not an Error' });
  });

  it("writes console.log calls as the runtime's JSON log events, with the request id", async () => {
    const lambda = await fixture();

    const invocation = await lambda.invoke({ consoleLog: 'hello' });

    expect(lambda.consoleRecords()).toEqual([
      { timestamp: expect.any(String), level: 'INFO', requestId: invocation.requestId, message: 'hello' },
    ]);
    expect(lambda.records()).toEqual([]);
  });

  it('freezes only once the invocation in flight has been answered, and thaws for the next one', async () => {
    const lambda = await fixture();
    const started = performance.now();
    const inFlight = lambda.invoke({ sleepMs: 300 });

    await lambda.freeze();
    const first = await inFlight;
    const next = await lambda.invoke({});

    expect(first.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(next.ok).toBe(true);
  });

  it('moves the wall clock on with advanceClock, but not the timers or the time left before the deadline', async () => {
    const lambda = await fixture({ controllableClock: true });
    const before = answer(await lambda.invoke({}));
    await lambda.freeze();

    lambda.advanceClock(15 * 60_000);
    const after = await lambda.invoke({ sleepMs: 200 }, 3000);

    const jumpMs = Number(answer(after)['now']) - Number(before['now']);
    expect(jumpMs).toBeGreaterThanOrEqual(15 * 60_000 + 200);
    expect(jumpMs).toBeLessThan(15 * 60_000 + 30_000);
    expect(answer(after)['remainingMs']).toBeGreaterThan(2000);
    expect(answer(after)['remainingMs']).toBeLessThanOrEqual(2800);
    expect(after.durationMs).toBeGreaterThanOrEqual(200);
    expect(after.durationMs).toBeLessThan(2000);
  });

  it('refuses advanceClock without the controllableClock option', async () => {
    const lambda = await fixture();

    expect(() => lambda.advanceClock(1000)).toThrow('controllableClock');
  });
});

/** The function's records of its invocations (message "invocation"). */
function invocationRecords(records: Record<string, unknown>[]): Record<string, unknown>[] {
  return records.filter((record) => record['message'] === 'invocation');
}

describe("the bundle under Lambda's Node.js runtime", () => {
  it('writes top-level JSON records carrying the request id, and cold_start only on the first invocation', async () => {
    const lambda = await scope.environment();

    const first = await lambda.invoke({ name: 'first' });
    const second = await lambda.invoke({ name: 'second' });

    const records = invocationRecords(lambda.records());
    expect(records).toEqual([
      expect.objectContaining({
        level: 'INFO',
        outcome: 'created',
        cluster: CLUSTER_NAME,
        namespace: scope.ns('default'),
        name: 'first',
        requestId: first.requestId,
        function_request_id: first.requestId,
        cold_start: true,
      }),
      expect.objectContaining({
        level: 'INFO',
        outcome: 'created',
        name: 'second',
        requestId: second.requestId,
        function_request_id: second.requestId,
        cold_start: false,
      }),
    ]);
    // Each record is the line itself, not a runtime record with the function's JSON escaped inside "message".
    for (const record of lambda.records()) {
      expect(typeof record['message']).toBe('string');
      expect(String(record['message']).startsWith('{')).toBe(false);
    }
    expect(lambda.consoleRecords()).toEqual([]);
  });

  it('drops the INFO invocation record but keeps WARN retries when the application log level is WARN', async () => {
    const lambda = await scope.environment({ ...scope.env, AWS_LAMBDA_LOG_LEVEL: 'WARN' });
    scope.proxy.inject([{ kind: 'status', code: 503 }]);

    const invocation = await lambda.invoke({ name: 'quiet' });

    expect(invocation).toMatchObject({ ok: true, result: { status: 'created' } });
    expect(scope.proxy.requests.map((request) => request.status)).toEqual([503, 201]);
    expect(invocationRecords(lambda.records())).toEqual([]);
    expect(lambda.records().filter((record) => record['message'] === 'retrying')).toHaveLength(1);
    // The function itself honours the level: it does not even write the record Lambda would drop.
    expect(lambda.logs.filter((line) => line.includes('"INFO"'))).toEqual([]);
  });

  it('keeps the ERROR invocation record and drops WARN retries when the application log level is ERROR', async () => {
    const lambda = await scope.environment({ ...scope.env, AWS_LAMBDA_LOG_LEVEL: 'ERROR' });
    scope.proxy.inject([{ kind: 'status', code: 503 }]);

    await lambda.invoke({ name: 'fine' });
    const failed = await lambda.invoke({ replicas: 2.5 });

    expect(failed).toMatchObject({ ok: false, errorType: 'InvalidEventError' });
    expect(invocationRecords(lambda.records())).toEqual([
      expect.objectContaining({ level: 'ERROR', outcome: 'error', errorType: 'InvalidEventError' }),
    ]);
    expect(lambda.records().filter((record) => record['message'] === 'retrying')).toEqual([]);
  });

  it('keeps INFO and WARN records when the application log level is DEBUG', async () => {
    const lambda = await scope.environment({ ...scope.env, AWS_LAMBDA_LOG_LEVEL: 'DEBUG' });
    scope.proxy.inject([{ kind: 'status', code: 503 }]);

    await lambda.invoke({ name: 'chatty' });

    expect(lambda.records().map((record) => [record['level'], record['message']])).toEqual(
      expect.arrayContaining([
        ['WARN', 'retrying'],
        ['INFO', 'invocation'],
      ]),
    );
  });

  it('posts a thrown ConfigurationError as errorType, errorMessage and a trace mapped to src/*.ts', async () => {
    const { CLUSTER_CA_DATA: _dropped, ...env } = scope.env;
    const lambda = await scope.environment(env);

    const invocation = await lambda.invoke({});

    expect(invocation).toMatchObject({ ok: false, errorType: 'ConfigurationError' });
    expect(lambda.errors).toHaveLength(1);
    const posted: unknown = JSON.parse(lambda.errors[0]?.body ?? '');
    expect(posted).toEqual({
      errorType: 'ConfigurationError',
      errorMessage: expect.stringMatching(/^CLUSTER_CA_DATA: /),
      trace: expect.any(Array),
    });
    const trace = lambda.errors[0]?.document?.trace ?? [];
    expect(trace[0]).toMatch(/^ConfigurationError: CLUSTER_CA_DATA: /);
    const frames = trace.slice(1);
    expect(frames.some((frame) => /\/src\/[\w/-]+\.ts:\d+:\d+\)?$/.test(frame))).toBe(true);
    expect(frames.filter((frame) => frame.includes('/dist/'))).toEqual([]);
    // The map is coarsened to lines (esbuild.config.mjs): the top frame is still the function and line that threw.
    const source = readFileSync(join(PROJECT_ROOT, 'src/config.ts'), 'utf8').split('\n');
    const message = source.findIndex((line) => line.includes('is not set but ${set} is'));
    expect(source[message - 1]).toContain('throw new ConfigurationError(');
    expect(frames[0]).toBe(`    at readClusterEndpoint (${join(PROJECT_ROOT, 'src/config.ts')}:${message}:5)`);
  });

  it("logs the runtime's Invoke Error record with the error's class name as errorType", async () => {
    const { CLUSTER_CA_DATA: _dropped, ...env } = scope.env;
    const lambda = await scope.environment(env);

    const invocation = await lambda.invoke({});

    expect(lambda.consoleRecords()).toEqual([
      {
        timestamp: expect.any(String),
        level: 'ERROR',
        requestId: invocation.requestId,
        message: expect.objectContaining({
          errorType: 'ConfigurationError',
          errorMessage: expect.stringMatching(/^CLUSTER_CA_DATA: /),
          stackTrace: expect.arrayContaining([expect.stringMatching(/\/src\/config\.ts:\d+:\d+/)]),
        }),
      },
    ]);
  });
});

interface Answer {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly errorType?: string | undefined;
  readonly errorMessage?: string | undefined;
}

const answerOf = (invocation: Invocation): Answer =>
  invocation.ok
    ? { ok: true, result: invocation.result }
    : { ok: false, errorType: invocation.errorType, errorMessage: invocation.errorMessage };

/** What the two runners must agree on: the answer (less the Deployment's uid), each record's fields, and the values
 * that do not vary from run to run. */
function comparable(answer: Answer, records: Record<string, unknown>[]) {
  const result = typeof answer.result === 'object' && answer.result !== null ? answer.result : {};
  const stable = [
    'level',
    'message',
    'service',
    'outcome',
    'cluster',
    'namespace',
    'name',
    'dryRun',
    'errorType',
    'errorMessage',
    'function_name',
    'function_arn',
    'function_memory_size',
  ];
  return {
    ok: answer.ok,
    result: Object.fromEntries(Object.entries(result).filter(([key]) => key !== 'uid')),
    errorType: answer.errorType,
    errorMessage: answer.errorMessage,
    records: records.map((record) => ({
      fields: Object.keys(record).sort(),
      values: Object.fromEntries(stable.map((key) => [key, record[key]])),
    })),
  };
}

/** A case both runners get: a label, the event (given the test's namespace for an alias), the function's environment
 * (given the test's), and the status or errorType the real runtime must answer. */
type AgreementCase = [
  label: string,
  eventIn: (ns: (alias: string) => string) => unknown,
  envFrom: (env: Record<string, string>) => Record<string, string>,
  outcome: string,
];

describe("the in-process runner and Lambda's runtime", () => {
  it.each<AgreementCase>([
    ['a Deployment created', () => ({ name: 'agreed' }), (env) => env, 'created'],
    ['a dry run', (ns) => ({ name: 'agreed', dryRun: true, namespace: ns('team-a') }), (env) => env, 'dry-run'],
    ['an invalid event', () => ({ replicas: 2.5 }), (env) => env, 'InvalidEventError'],
    ['an incomplete configuration', () => ({}), ({ CLUSTER_CA_DATA: _ca, ...env }) => env, 'ConfigurationError'],
    ['an RBAC refusal', (ns) => ({ namespace: ns('locked') }), (env) => env, 'ClusterAuthorizationError'],
  ])(
    'agree on the answer, errorType, errorMessage and record fields for %s',
    async (_label, eventIn, envFrom, outcome) => {
      const event = eventIn((alias) => scope.ns(alias));
      const env = envFrom(scope.env);
      const lambda = await scope.environment(env);
      const real = await lambda.invoke(event);
      const realRecords = lambda.records();
      // The cluster as it was before: the in-process run must create what the real one did, not find it there.
      const created = restPath('apps/v1', 'deployments', scope.ns('default'), 'agreed');
      await scope.admin.delete(created);
      await scope.admin.waitFor(created, (object) => object === undefined, 'the Deployment to be deleted');

      const local = await invokeInProcess(event, env);

      expect(real.ok ? real.result['status'] : real.errorType).toBe(outcome);
      expect(comparable(local, local.logs)).toEqual(comparable(answerOf(real), realRecords));
    },
  );
});

// Whether a set's objects are ready: kstatus's rules (src/status/kstatus.ts) for every kind, but a Deployment, which
// keeps the function's own rollout diagnostics (its failing pods named, Unschedulable waited for, a pull error final
// only when permanent), as for the Deployment actions. And the wait of apply-manifest: until every object is current
// (or its readiness cannot be observed), one fails, or the time runs out.
import { POLL_BACKOFF_FACTOR, POLL_FIRST_INTERVAL_MS, POLL_MAX_INTERVAL_MS } from '../constants.js';
import { RolloutFailedError, RolloutTimeoutError } from '../errors.js';
import { describeRollout, observeRollout, type Target } from '../deployment/observe.js';
import { asDeployment, type JsonObject } from '../kube/client.js';
import { elapsedMs } from '../kube/session.js';
import { sleep } from '../retry.js';
import { readinessOf, type ReadinessReport } from '../status/kstatus.js';
import { NO_MEMORY, type PodMemory } from '../status/rollout.js';
import type { ResourceType } from './discovery.js';
import { describeRef, type ObjectRef } from './identity.js';
import { readObject, type SetContext } from './objects.js';

/** A poll starts only with this much time left, so that running out of time is a RolloutTimeoutError. */
const MIN_POLL_BUDGET_MS = 1000;
/** At most this many objects are named in a wait's error. */
const MAX_NAMED = 5;

/** An object whose readiness is judged, and what earlier polls of its Deployment's pods saw. */
export interface Judged {
  readonly ref: ObjectRef;
  readonly type: ResourceType;
  readonly live: JsonObject;
  readonly memory?: PodMemory | undefined;
}

/** How ready `live` is, and what was learnt of its pods. Reads a Deployment's pods when its rollout is not complete
 * (with the set's grants: a 403 on the list leaves the Deployment judged alone). */
export async function judgeReadiness(
  context: SetContext,
  { ref, type, live, memory = NO_MEMORY }: Judged,
): Promise<ReadinessReport & { memory: PodMemory }> {
  const generic = readinessOf(live, { custom: type.custom });
  const isDeployment = type.group === 'apps' && type.kind === 'Deployment';
  if (!isDeployment || generic.ready === 'terminating' || ref.namespace === undefined) {
    return { ...generic, memory };
  }
  const target: Target = {
    action: context.action,
    namespace: ref.namespace,
    name: ref.name,
    listGrant: { set: context.set, setNamespace: context.setNamespace },
  };
  const deployment = asDeployment(live);
  const observed = await observeRollout(context.session, target, deployment, memory);
  const ready = { complete: 'current', progressing: 'in-progress', failed: 'failed' } as const;
  return {
    ready: ready[observed.rollout.state],
    message: describeRollout(target, deployment, observed.rollout),
    memory: observed.memory,
  };
}

/** Polls the objects until each is current or unknown (returns their readiness, by index); throws RolloutFailedError
 * when one fails, RolloutTimeoutError when the time runs out first, each naming the objects and why. `aftermath` ends
 * both errors' messages. */
export async function waitUntilReady(
  context: SetContext,
  objects: readonly { readonly ref: ObjectRef; readonly type: ResourceType }[],
  aftermath: string,
): Promise<ReadinessReport[]> {
  const reports: (ReadinessReport | undefined)[] = objects.map(() => undefined);
  const memories = new Map<number, PodMemory>();
  let interval = POLL_FIRST_INTERVAL_MS;
  for (;;) {
    for (const [index, { ref, type }] of objects.entries()) {
      const known = reports[index];
      if (known !== undefined && (known.ready === 'current' || known.ready === 'unknown')) continue;
      const live = await readObject(context, type, ref);
      if (live === undefined) {
        reports[index] = { ready: 'in-progress', message: 'it does not exist (deleted by someone else?)' };
        continue;
      }
      const judged = await judgeReadiness(context, { ref, type, live, memory: memories.get(index) });
      memories.set(index, judged.memory);
      reports[index] = { ready: judged.ready, message: judged.message };
    }
    const named = (wanted: (report: ReadinessReport) => boolean): string => {
      const matching = objects.flatMap(({ ref }, index) => {
        const report = reports[index];
        return report !== undefined && wanted(report) ? [`${describeRef(ref)}: ${report.message}`] : [];
      });
      const more = matching.length > MAX_NAMED ? ` (and ${matching.length - MAX_NAMED} more)` : '';
      return `${matching.slice(0, MAX_NAMED).join('; ')}${more}`;
    };
    if (reports.some((report) => report?.ready === 'failed')) {
      throw new RolloutFailedError(
        undefined,
        `set "${context.set}" is not ready: ${named((report) => report.ready === 'failed')}. ${aftermath}`,
      );
    }
    const done = reports.flatMap((report) =>
      report !== undefined && (report.ready === 'current' || report.ready === 'unknown') ? [report] : [],
    );
    if (done.length === reports.length) return done;
    const next = Date.now() + interval;
    if (next + MIN_POLL_BUDGET_MS > context.session.deadline) {
      throw new RolloutTimeoutError(
        `set "${context.set}" was not ready within the invocation's time ` +
          `(${(elapsedMs(context.session) / 1000).toFixed(1)} s): ` +
          `${named((report) => report.ready === 'in-progress' || report.ready === 'terminating')}. ${aftermath} ` +
          "Invoke get-manifest later to see the objects' readiness, or raise the function's Timeout.",
      );
    }
    await sleep(interval);
    interval = Math.min(POLL_MAX_INTERVAL_MS, interval * POLL_BACKOFF_FACTOR);
  }
}

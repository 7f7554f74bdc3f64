// get-manifest: the set as the cluster has it: each member of its record, read by name, with its uid and readiness.
import type { Session } from '../kube/session.js';
import { resourceTypeOf } from './discovery.js';
import { readObject, type SetContext } from './objects.js';
import { judgeReadiness } from './readiness.js';
import { readRecord } from './record.js';
import type { ManifestRequest } from './request.js';
import { countActions, objectResult, refOf, uidOf, type SetObjectResult, type SetResult } from './result.js';

type GetRequest = Extract<ManifestRequest, { action: 'get-manifest' }>;

/** Reads the set's record and each member; `absent` when the set has no record. Throws the errors of errors.ts. */
export async function getManifest(session: Session, request: GetRequest): Promise<SetResult> {
  const { set, namespace } = request;
  const context: SetContext = { session, action: request.action, set, setNamespace: namespace };
  const record = await readRecord(context);
  if (record === undefined) {
    return { status: 'absent', set, namespace, counts: {}, objects: [] };
  }
  const objects: SetObjectResult[] = [];
  for (const member of record.members) {
    const type = await resourceTypeOf(session, member.apiVersion, member.kind);
    const object = type === undefined ? undefined : await readObject(context, type, refOf(member));
    const live = type === undefined || object === undefined ? undefined : { type, object };
    objects.push(
      live === undefined
        ? objectResult(
            { ...member, uid: undefined },
            { message: type === undefined ? 'its kind is no longer served' : 'not found' },
          )
        : objectResult(
            { ...member, uid: uidOf(live.object) },
            { readiness: await judgeReadiness(context, { ref: refOf(member), type: live.type, live: live.object }) },
          ),
    );
  }
  return { status: 'found', set, namespace, counts: countActions(objects), objects };
}

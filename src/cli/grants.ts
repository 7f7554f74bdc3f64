// npm run grants -- <manifest files> --set S [--namespace N] [--kubeconfig K] [--group G]
// Prints the RBAC objects (YAML, for kubectl apply -f -) that let the function apply, prune, read and delete exactly
// set S of those manifests, and nothing else (src/manifests/grants.ts says which rights and why). Each kind's resource
// name and scope come from the manifests' CRDs or from the cluster's discovery, through a cluster admin's kubeconfig.
// Warnings about rights that are cluster-admin in effect go to stderr.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { LambdaEksError } from '../errors.js';
import { readLabel } from '../fields.js';
import { adminDiscovery } from '../kube/admin-discovery.js';
import { typeKey, typesDefinedBy, type ResourceType } from '../manifests/discovery.js';
import { setGrantsFor, type GrantedObject } from '../manifests/grants.js';
import { groupOf, refKey } from '../manifests/identity.js';
import { parseManifest, type ParsedObject } from '../manifests/parse.js';

const USAGE = `usage: npm run grants -- <manifest files...> --set S [--namespace N] [--kubeconfig K] [--group G]

Prints the RBAC objects that let the lambda-eks function apply, prune, read and delete set S of these manifests, and
nothing else: get, patch, create and delete on each object by name, the set's record, list on pods and ReplicaSets
only where the set has Deployments, escalate on its Roles and bind on the roles its bindings reference. Apply them as a
cluster admin: npm run --silent grants -- app.yaml --set app | kubectl apply -f -

  <manifest files>  the set's manifests (YAML or JSON); to prune, every manifest the set has had since its grants
                    were last applied
  --set S           the set's name (the event's "set")
  --namespace N     the set's namespace (the event's "namespace"; the function's NAMESPACE): where its record lives,
                    and the namespace of objects that name none (default: default)
  --kubeconfig K    a cluster admin's kubeconfig, for discovery (default: KUBECONFIG, else ~/.kube/config)
  --group G         the Kubernetes group the bindings name: the function's (default: lambda-deployers, the
                    KubernetesGroup of template.yml)
  --help            this help`;

interface Options {
  readonly files: string[];
  readonly set: string;
  readonly namespace: string;
  readonly kubeconfig: string | undefined;
  readonly group: string;
}

/** A mistake in the command line or the manifests: printed with the usage, exit status 2. */
class UsageError extends Error {}

function readOptions(argv: readonly string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        set: { type: 'string' },
        namespace: { type: 'string', default: 'default' },
        kubeconfig: { type: 'string' },
        group: { type: 'string', default: 'lambda-deployers' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('give at least one manifest file');
  if (values.set === undefined) throw new UsageError('--set is required: the name of the set');
  const label = (value: string, option: string): string => {
    try {
      return readLabel(value, option, '');
    } catch (error) {
      throw new UsageError(error instanceof LambdaEksError ? error.message : String(error));
    }
  };
  return {
    files: positionals,
    set: label(values.set, '--set'),
    namespace: label(values.namespace, '--namespace'),
    kubeconfig: values.kubeconfig,
    group: values.group,
  };
}

/** The objects of every file, each with the file it came from. */
async function readManifests(files: readonly string[]): Promise<(ParsedObject & { file: string })[]> {
  const objects: (ParsedObject & { file: string })[] = [];
  for (const file of files) {
    let text: string;
    try {
      // npm runs scripts in the project's directory: a relative path is the user's, from where npm was started.
      text = readFileSync(resolve(process.env['INIT_CWD'] ?? '.', file), 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      for (const object of await parseManifest(text)) objects.push({ ...object, file });
    } catch (error) {
      throw new UsageError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return objects;
}

async function main(argv: readonly string[]): Promise<void> {
  const options = readOptions(argv);
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const parsed = await readManifests(options.files);
  const types = new Map<string, ResourceType>(
    typesDefinedBy(parsed).map((type) => [typeKey(type.apiVersion, type.kind), type]),
  );
  const discovery = parsed.some((object) => !types.has(typeKey(object.apiVersion, object.kind)))
    ? adminDiscovery(options.kubeconfig)
    : undefined;
  const objects = new Map<string, GrantedObject>();
  for (const object of parsed) {
    const key = typeKey(object.apiVersion, object.kind);
    let type = types.get(key);
    if (type === undefined && discovery !== undefined) {
      const served = await discovery.kindOf(object.apiVersion, object.kind);
      if (served === undefined) {
        throw new UsageError(
          `${object.file}: ${object.from} (${object.kind} "${object.name}"): the cluster of kubeconfig context ` +
            `"${discovery.context}" does not serve kind ${object.kind} of ${object.apiVersion}, and no ` +
            'CustomResourceDefinition in these manifests defines it: install its CRD, or pass the manifest that has it',
        );
      }
      const group = groupOf(object.apiVersion);
      type = { apiVersion: object.apiVersion, group, kind: object.kind, ...served, custom: false };
      types.set(key, type);
    }
    if (type === undefined) continue;
    if (!type.namespaced && object.namespace !== undefined) {
      throw new UsageError(
        `${object.file}: ${object.from} (${object.kind} "${object.name}") names a namespace, but ${object.kind} is ` +
          'cluster-scoped: remove metadata.namespace',
      );
    }
    const ref = {
      group: type.group,
      kind: type.kind,
      namespace: type.namespaced ? (object.namespace ?? options.namespace) : undefined,
      name: object.name,
    };
    objects.set(refKey(ref), { ref, type, object: object.object });
  }
  const created = new Set(
    parsed.filter((object) => object.apiVersion === 'v1' && object.kind === 'Namespace').map((object) => object.name),
  );
  if (created.has(options.namespace)) {
    throw new UsageError(
      `the manifests hold Namespace "${options.namespace}", the set's own namespace, where its record lives: a set ` +
        'cannot hold it (the function refuses it too). Create it before, or give the set another --namespace.',
    );
  }
  const grants = setGrantsFor(
    [...objects.values()],
    { set: options.set, setNamespace: options.namespace, group: options.group },
    created,
  );
  for (const warning of grants.warnings) console.error(`npm run grants: warning: ${warning}`);
  const header = grants.notes.map((note) => `# ${note}`).join('\n');
  const documents = grants.objects.map((object) => stringify(object, { lineWidth: 0 }).trimEnd());
  console.log(`${header}\n${documents.map((document) => `---\n${document}`).join('\n')}`);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`npm run grants: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`npm run grants: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

// The container image reference grammar, as the kubelet's image puller parses it (github.com/distribution/reference:
// reference.go, regexp.go and normalize.go, ParseNormalizedNamed). A reference it rejects makes every pod of the
// Deployment fail with InvalidImageName, so the function rejects it before sending anything.
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain "/"] path            path at most 255 characters (Docker Hub's "library/" counted)
//   domain     := host [":" port]              host: domain-name | IPv4 | "[" IPv6 "]"
//   path       := path-component ["/" path-component]*
//   path-component := [a-z0-9]+ (separator [a-z0-9]+)*      separator := [_.] | "__" | "-"+
//   tag        := [\w][\w.-]{0,127}
//   digest     := algorithm ":" hex            sha256: 64, sha384: 96, sha512: 128 lower-case hex digits

const NAME_MAX = 255;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DIGEST_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const IDENTIFIER = /^[a-f0-9]{64}$/;

/** What is wrong with an image reference, in words a user can act on; undefined when the kubelet would accept it.
 * Pure. */
export function imageReferenceProblem(reference: string): string | undefined {
  const at = reference.indexOf('@');
  const named = at < 0 ? reference : reference.slice(0, at);
  const digest = at < 0 ? undefined : reference.slice(at + 1);
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const [name, tag] = colon > slash ? [named.slice(0, colon), named.slice(colon + 1)] : [named, undefined];

  if (name === '') {
    return 'it has no repository name (e.g. "nginx" or "registry.example.com/team/app")';
  }
  if (IDENTIFIER.test(reference)) {
    return 'a 64-digit hexadecimal string is an image ID, not a repository name';
  }
  const nameProblem = checkName(name);
  if (nameProblem !== undefined) {
    return nameProblem;
  }
  if (tag !== undefined && !TAG.test(tag)) {
    return (
      `its tag ${JSON.stringify(shorten(tag))} is not valid: 1 to 128 letters, digits, "_", "." or "-", not ` +
      'starting with "." or "-"'
    );
  }
  if (digest !== undefined) {
    return checkDigest(digest);
  }
  return undefined;
}

/** The domain, when there is one, then each path component; as normalize.go splits them: the first component is a
 * registry host when it contains "." or ":", is "localhost", or has upper-case letters. */
function checkName(name: string): string | undefined {
  const components = name.split('/');
  const [first = ''] = components;
  const hasDomain =
    components.length > 1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  if (hasDomain && !DOMAIN.test(first)) {
    return (
      `its registry host ${JSON.stringify(shorten(first))} is not a host name, IPv4 or [IPv6] address with an ` +
      'optional :port'
    );
  }
  const path = hasDomain ? components.slice(1) : components;
  // Docker Hub's official images live under library/: "nginx" is docker.io/library/nginx, and that path counts.
  const normalized = !hasDomain && path.length === 1 ? `library/${name}` : path.join('/');
  if (normalized.length > NAME_MAX) {
    return `its repository path is ${normalized.length} characters long; the limit is ${NAME_MAX}`;
  }
  for (const component of path) {
    if (PATH_COMPONENT.test(component)) {
      continue;
    }
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      return `its repository path must be lower-case (${JSON.stringify(shorten(path.join('/').toLowerCase()))})`;
    }
    return (
      `its repository path component ${JSON.stringify(shorten(component))} is not valid: lower-case letters and ` +
      'digits, separated by ".", "_", "__" or "-", in components separated by "/"'
    );
  }
  return undefined;
}

function checkDigest(digest: string): string | undefined {
  if (!DIGEST.test(digest)) {
    return `its digest ${JSON.stringify(shorten(digest))} is not <algorithm>:<hex>, e.g. sha256: and 64 hex digits`;
  }
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = DIGEST_LENGTHS[algorithm];
  if (length === undefined) {
    return `its digest algorithm "${shorten(algorithm)}" is not one of sha256, sha384, sha512`;
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return `its ${algorithm} digest must be ${length} lower-case hexadecimal digits`;
  }
  return undefined;
}

function shorten(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}...` : value;
}

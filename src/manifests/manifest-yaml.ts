// YAML as kubectl reads it: kubectl decodes manifests with sigs.k8s.io/yaml, that is go-yaml v2 (YAML 1.1) and then
// JSON. So: YAML 1.1 booleans (yes, no, on, off, y, n), octal 0644 and 0o644, hex, binary, merge keys (<<), duplicate
// keys refused; and, as go-yaml v2 resolves into interface{} (go.yaml.in/yaml/v2 resolve.go, decode.go), no base-60
// numbers and timestamps left as strings. Bundled as a file of its own (dist/manifest-yaml.mjs), loaded only when a
// manifest is parsed, so that the Deployment actions do not pay for the parser at import.
import { parseAllDocuments, type Tags } from 'yaml';

/** One YAML document of a manifest: its value as JSON, or the parser's complaint. */
export type YamlDocument = { readonly value: unknown } | { readonly error: string };

/** go-yaml v2's octal with Go's 0o prefix (strconv.ParseInt with base 0), which YAML 1.1 itself does not have. */
const GO_OCTAL = {
  identify: (value: unknown) => typeof value === 'number' && Number.isInteger(value),
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^[-+]?0o[0-7_]+$/,
  resolve: (text: string) => {
    const negative = text.startsWith('-');
    const digits = text.replace(/^[-+]?0o/, '').replace(/_/g, '');
    return (negative ? -1 : 1) * Number.parseInt(digits, 8);
  },
};

/** The YAML 1.1 schema without what go-yaml v2 does not resolve into interface{}: base-60 numbers, timestamps. */
function goYamlTags(tags: Tags): Tags {
  return [
    ...tags.filter((tag) => {
      const { format, tag: name } = typeof tag === 'string' ? { format: undefined, tag } : tag;
      return format !== 'TIME' && name !== 'tag:yaml.org,2002:timestamp';
    }),
    GO_OCTAL,
  ];
}

/** Each document of `text`, in order (an empty document is null). Throws nothing: a document that does not parse is an
 * `error`, with the line it is on. */
export function parseYamlDocuments(text: string): YamlDocument[] {
  return parseAllDocuments(text, { version: '1.1', schema: 'yaml-1.1', customTags: goYamlTags, uniqueKeys: true }).map(
    (document) => {
      const [first] = document.errors;
      if (first !== undefined) {
        const line = first.linePos?.[0].line;
        return { error: `${first.message.split('\n')[0] ?? ''}${line === undefined ? '' : ` (line ${line})`}` };
      }
      try {
        // Aliases are expanded at most 100 times: a "billion laughs" document is refused, not expanded.
        return { value: document.toJS({ maxAliasCount: 100 }) };
      } catch (error) {
        return { error: error instanceof Error ? error.message : String(error) };
      }
    },
  );
}

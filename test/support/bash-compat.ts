// Finds what macOS's /bin/bash (3.2) cannot run in a bash script, line by line. There is no bash 3.2 on this machine
// (no registry we can reach ships one) and bash >= 4.4 runs these constructs happily, so a run of the scripts here
// cannot show the difference: this check reads the source instead.
//
// 1. Under `set -u`, bash before 4.4 treats "${arr[@]}" and "${arr[*]}" of an array with no elements as an unbound
//    variable and exits (bash CHANGES, bash-4.4-alpha, item a: "Using ${a[@]} or ${a[*]} with an array without any
//    assigned elements when the nounset option is enabled no longer throws an unbound variable error"). An array that
//    can be empty (assigned `name=()`, or filled by `read -a`) must be expanded as ${name[@]+"${name[@]}"}, or only
//    inside `if ((${#name[@]} > 0)); then ... fi` (or after `((${#name[@]} > 0)) &&` on the same line).
// 2. Syntax added after 3.2 (bash NEWS): associative arrays, ${var,,}/${var^^}, mapfile/readarray, |&, &>>, ;& and
//    ;;& in case, coproc, namerefs, declare -g/-l/-u, ${var@Q}, [[ -v ]], wait -n, {fd}> redirections, negative array
//    subscripts and negative substring lengths, printf %(...)T, $BASHPID, $EPOCHSECONDS, shopt globstar/lastpipe.

/** One construct 3.2 cannot run: where, and why. */
export interface Finding {
  line: number;
  text: string;
  problem: string;
}

const NEWER_SYNTAX: [RegExp, string][] = [
  [/\b(declare|local|typeset|readonly)\s+-[a-zA-Z]*A/, 'associative arrays (declare -A) need bash 4.0'],
  [
    /\$\{[#!]?[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?(\^\^?|,,?)[^}]*\}/,
    'case modification (${var,,}, ${var^^}) needs bash 4.0',
  ],
  [/(^|[;&|(\s])(mapfile|readarray)\b/, 'mapfile/readarray need bash 4.0'],
  [/\|&/, '|& needs bash 4.0'],
  [/&>>/, '&>> needs bash 4.0'],
  [/;;&|[^;];&(\s|$)/, 'case fall-through (;& and ;;&) needs bash 4.0'],
  [/(^|[;&|\s])coproc\b/, 'coproc needs bash 4.0'],
  [/\b(declare|local|typeset)\s+-[a-zA-Z]*[nglu]/, 'declare -n/-g/-l/-u need bash 4.0-4.3'],
  [/\$\{[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?@[QEPAKaUuLk]\}/, '${var@Q} transformations need bash 4.4'],
  [/(\[\[|\btest|\[)\s+-v\s/, '-v (is the variable set) needs bash 4.2'],
  [/\bwait\s+-n\b/, 'wait -n needs bash 4.3'],
  [/\{[A-Za-z_][A-Za-z0-9_]*\}[<>]/, '{fd}> redirections need bash 4.1'],
  [/\$\{[A-Za-z_][A-Za-z0-9_]*\[-[0-9]/, 'negative array subscripts need bash 4.3'],
  [/\$\{[A-Za-z_][A-Za-z0-9_]*:[^}:]*:\s*-[0-9]/, 'negative substring lengths need bash 4.2'],
  [/%\([^)]*\)T/, 'printf %(...)T needs bash 4.2'],
  [/\$\{?(BASHPID|EPOCHSECONDS|EPOCHREALTIME)\b/, '$BASHPID and $EPOCHSECONDS need bash 4.0/5.0'],
  [
    /\bshopt\s+-s\s+.*\b(globstar|lastpipe|autocd|checkjobs|direxpand|dirspell|globasciiranges)\b/,
    'this shopt needs bash 4',
  ],
];

const ARRAY_NAME = '[A-Za-z_][A-Za-z0-9_]*';

/** The arrays of a script that can be empty: assigned `name=()` (also with local/declare), or filled by read -a. */
function arraysThatCanBeEmpty(lines: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const line of lines) {
    for (const match of line.matchAll(new RegExp(`(?:^|[\\s;(])(${ARRAY_NAME})=\\(\\s*\\)`, 'g')))
      names.add(match[1] ?? '');
    for (const match of line.matchAll(new RegExp(`\\bread\\b[^;|&]*?-[a-zA-Z]*a\\s+(${ARRAY_NAME})`, 'g'))) {
      names.add(match[1] ?? '');
    }
    for (const match of line.matchAll(new RegExp(`\\b(?:declare|local|typeset)\\s+-a\\s+(${ARRAY_NAME})\\s*$`, 'g'))) {
      names.add(match[1] ?? '');
    }
  }
  names.delete('');
  return names;
}

/** The names an `if` line (or an `&&` chain) proves non-empty: `((${#name[@]} > 0))`, `((${#name[@]}))`,
 * `[[ ${#name[@]} -gt 0 ]]`. */
function provenNonEmpty(text: string): Set<string> {
  const pattern = new RegExp(
    `(?:\\(\\(\\s*\\$\\{#(${ARRAY_NAME})\\[[@*]\\]\\}\\s*(?:>\\s*0|!=\\s*0|>=\\s*1)?\\s*\\)\\)|\\[\\[\\s*\\$\\{#(${ARRAY_NAME})\\[[@*]\\]\\}\\s+-(?:gt|ne)\\s+0\\s*\\]\\])`,
    'g',
  );
  return new Set([...text.matchAll(pattern)].map((match) => match[1] ?? match[2] ?? ''));
}

/** Every construct in `source` (a bash script) that bash 3.2 cannot run. */
export function findBash32Problems(source: string): Finding[] {
  const lines = source.split('\n');
  const findings: Finding[] = [];
  const mayBeEmpty = arraysThatCanBeEmpty(lines);
  // One frame per open if/case/loop...fi; an if frame holds what its condition proved, until its else/elif.
  const guards: Set<string>[] = [];
  let heredoc: string | undefined;
  lines.forEach((raw, index) => {
    const number = index + 1;
    if (heredoc !== undefined) {
      if (raw.trim() === heredoc) heredoc = undefined;
      return;
    }
    const line = raw.replace(/^\s*#.*$/, '');
    const opens = /(?<!<)<<-?(?!<)\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?/.exec(line);
    if (opens) heredoc = opens[1];
    for (const [pattern, problem] of NEWER_SYNTAX) {
      if (pattern.test(line)) findings.push({ line: number, text: raw.trim(), problem });
    }

    const words = line.trim();
    if (/^if\b/.test(words)) {
      guards.push(provenNonEmpty(words.replace(/;\s*then\b.*$/, '')));
    } else if (/^elif\b/.test(words)) {
      guards.pop();
      guards.push(provenNonEmpty(words.replace(/;\s*then\b.*$/, '')));
    } else if (/^else\b/.test(words)) {
      guards.pop();
      guards.push(new Set());
    }
    const guarded = new Set([...guards.flatMap((frame) => [...frame]), ...provenNonEmpty(line.split('&&')[0] ?? '')]);
    const expansion = new RegExp(`\\$\\{(${ARRAY_NAME})\\[[@*]\\]([^}]*)\\}`, 'g');
    for (const match of line.matchAll(expansion)) {
      const [whole, name = '', rest = ''] = match;
      if (!mayBeEmpty.has(name) || rest.startsWith('+') || guarded.has(name)) continue;
      // The inner "${name[@]}" of ${name[@]+"${name[@]}"} is guarded by the outer one.
      const before = line.slice(0, match.index);
      if (before.endsWith(`\${${name}[@]+"`) || before.endsWith(`\${${name}[*]+"`)) continue;
      findings.push({
        line: number,
        text: raw.trim(),
        problem: `${whole} of an array that can be empty is an unbound-variable error under set -u before bash 4.4; write \${${name}[@]+"\${${name}[@]}"}`,
      });
    }
    if (/(^|[;\s])fi\s*(;|\)|$)/.test(words)) guards.pop();
  });
  return findings;
}

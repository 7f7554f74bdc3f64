import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { findBash32Problems } from '../support/bash-compat.js';
import { PROJECT_ROOT } from '../support/lambda.js';

const SCRIPTS = ['deploy.sh', 'local.sh', 'build-handler.sh', '.ci/run'];
const script = (...lines: string[]): string => ['#!/usr/bin/env bash', 'set -euo pipefail', ...lines].join('\n');

describe('findBash32Problems', () => {
  it.each([
    ['an empty array expanded unguarded', ['args=()', 'run "${args[@]}"'], 2],
    ['an empty array expanded with [*]', ['args=()', 'echo "${args[*]}"'], 2],
    ['a local empty array', ['f() {', '  local args=()', '  run "${args[@]}"', '}'], 3],
    ['an array filled by read -a', ['IFS=, read -r -a items <<< "$1"', 'for i in "${items[@]}"; do :; done'], 2],
    ['an array that is reset to empty on one path', ['a=(x)', '[[ -n $1 ]] || a=()', 'run "${a[@]}"'], 3],
    [
      'an expansion in the else branch of a guard',
      ['a=()', 'if ((${#a[@]} > 0)); then', '  :', 'else', '  run "${a[@]}"', 'fi'],
      5,
    ],
    [
      'an expansion after the guarded block',
      ['a=()', 'if ((${#a[@]} > 0)); then', '  run "${a[@]}"', 'fi', 'run "${a[@]}"'],
      5,
    ],
    ['declare -A', ['declare -A seen'], 1],
    ['${var,,}', ['lower=${name,,}'], 1],
    ['${var^^}', ['upper=${name^^}'], 1],
    ['mapfile', ['mapfile -t lines < file'], 1],
    ['readarray', ['readarray lines < file'], 1],
    ['|&', ['run |& tee log'], 1],
    ['&>>', ['run &>> log'], 1],
    ['declare -n', ['declare -n ref=other'], 1],
    ['[[ -v ]]', ['[[ -v name ]] && echo set'], 1],
    ['${var@Q}', ['echo "${name@Q}"'], 1],
    ['a negative subscript', ['echo "${arr[-1]}"'], 1],
    ['wait -n', ['wait -n'], 1],
    ['{fd}> redirection', ['exec {fd}> log'], 1],
  ])('finds %s', (_label, lines, line) => {
    const findings = findBash32Problems(script(...lines));
    expect(findings.map((finding) => finding.line)).toEqual([line + 2]);
  });

  it.each([
    ['a guarded expansion', ['args=()', 'run ${args[@]+"${args[@]}"}']],
    ['an expansion inside if ((${#a[@]} > 0))', ['a=()', 'if ((${#a[@]} > 0)); then', '  run "${a[@]}"', 'fi']],
    [
      'an expansion inside a nested block of a guard',
      ['a=()', 'if ((${#a[@]})); then', '  if true; then', '    run "${a[@]}"', '  fi', 'fi'],
    ],
    ['an expansion after a && guard', ['a=()', '((${#a[@]} > 0)) && run "${a[@]}"']],
    ['an array never empty', ['cmd=(eksctl create)', 'run "${cmd[@]}"']],
    ['the length of an empty array', ['a=()', 'echo "${#a[@]}"']],
    ['a here-document mentioning ${a[@]}', ['a=()', 'cat << EOF', 'run "${a[@]}"', 'EOF']],
    ['${var:-default} and ${var//_/-}', ['x=${1:-none}', 'y=${x//_/-}', 'z=${x:0:3}']],
    ['a here-string', ['read -r a b <<< "$x"']],
    ['comments', ['# declare -A is bash 4', '# "${args[@]}"']],
  ])('accepts %s', (_label, lines) => {
    expect(findBash32Problems(script(...lines))).toEqual([]);
  });
});

describe.each(SCRIPTS)('%s', (file) => {
  it('uses nothing that macOS bash 3.2 cannot run', () => {
    expect(findBash32Problems(readFileSync(join(PROJECT_ROOT, file), 'utf8'))).toEqual([]);
  });
});

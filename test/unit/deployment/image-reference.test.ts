import { describe, expect, it } from '@jest/globals';
import { imageReferenceProblem } from '../../../src/deployment/image-reference.js';

// The cases are distribution/reference's own (normalize_test.go: TestValidateReferenceName, TestValidateRemoteName,
// TestParseReferenceWithTagAndDigest), the rules the kubelet applies through ParseNormalizedNamed.
const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

describe('imageReferenceProblem', () => {
  it.each([
    'docker/docker',
    'library/debian',
    'debian',
    'docker.io/docker/docker',
    'index.docker.io/library/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    `docker.io/${HEX64}`,
    'Docker/docker',
    'DOCKER/docker',
    'docker-rules/docker',
    'docker---rules/docker',
    'd/docker',
    'dock__er/docker',
    'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
    'nginx:1.30.0',
    'public.ecr.aws/nginx/nginx:1.30-alpine',
    '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:v1.2.3_rc1',
    'localhost:5000/app',
  ])('accepts %s', (reference) => {
    expect(imageReferenceProblem(reference)).toBeUndefined();
  });

  it.each([
    ['https://github.com/docker/docker', 'registry host'],
    ['docker/Docker', 'lower-case'],
    ['-docker', 'component'],
    ['-docker/docker', 'component'],
    ['-docker.io/docker/docker', 'registry host'],
    ['docker///docker', 'component'],
    ['docker.io/docker/Docker', 'lower-case'],
    ['[fc00::1]', 'component'],
    ['[fc00::1]:5000', 'component'],
    ['fc00::1:5000/debian', 'registry host'],
    ['[fe80::1%eth0]:5000/debian', 'registry host'],
    ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'registry host'],
    [HEX64, 'image ID'],
    ['docker-/docker', 'component'],
    ['____/____', 'component'],
    ['_docker/_docker', 'component'],
    ['dock..er/docker', 'registry host'],
    ['dock..er/docker', 'registry host'],
    ['dock..er/docker', 'registry host'],
    ['docker/', 'component'],
    [`${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`, '255'],
    ['NGINX:Latest', 'lower-case ("nginx")'],
    ['a::b', 'component'],
    ['x'.repeat(300_000), 'limit is 255'],
    ['nginx:-tag', 'tag'],
    [`nginx:${'t'.repeat(129)}`, 'tag'],
    ['nginx@sha256:abc', 'digest'],
    [`nginx@md5:${'a'.repeat(32)}`, 'algorithm'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'lower-case hexadecimal'],
    ['', 'no repository name'],
  ])('rejects %s, saying what is wrong (%s)', (reference, problem) => {
    expect(imageReferenceProblem(reference)).toContain(problem);
  });
});

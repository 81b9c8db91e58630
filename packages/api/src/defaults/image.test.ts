import { describe, expect, it } from 'vitest';
import { defaultImagePullPolicy, parseImageName } from './image.js';

const DIGEST = 'sha256:' + 'a'.repeat(64);

describe('defaultImagePullPolicy', () => {
  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['docker.io/library/nginx', 'Always'],
    ['localhost:5000/team/app', 'Always'],
    ['localhost:5000/team/app:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['registry.local:5000/busybox:1.36.1', 'IfNotPresent'],
    [`nginx@${DIGEST}`, 'IfNotPresent'],
    [`nginx:1.27@${DIGEST}`, 'IfNotPresent'],
    [`nginx:latest@${DIGEST}`, 'Always'],
    ['nginx:Latest', 'IfNotPresent'],
    // References the apiserver cannot parse have no tag, hence IfNotPresent.
    ['', 'IfNotPresent'],
    ['Nginx', 'IfNotPresent'],
    ['docker.io/Library/nginx', 'IfNotPresent'],
    ['nginx:', 'IfNotPresent'],
    ['a'.repeat(64), 'IfNotPresent'],
  ])('%s -> %s', (image, policy) => {
    expect(defaultImagePullPolicy(image)).toBe(policy);
  });
});

describe('parseImageName', () => {
  it('splits repository, tag and digest', () => {
    expect(parseImageName(`quay.io/org/app:v2@${DIGEST}`)).toEqual({ repository: 'quay.io/org/app', tag: 'v2', digest: DIGEST });
    expect(parseImageName('host:5000/app')).toEqual({ repository: 'host:5000/app', tag: 'latest', digest: '' });
    expect(parseImageName('Registry.Example/app:1')).toEqual({ repository: 'Registry.Example/app', tag: '1', digest: '' });
  });
});

// Delegated authn/authz caches (upstream's cached token authenticator and webhook authorizer caches).
import { describe, expect, it } from 'vitest';
import { SubjectAccessReviewAuthorizer, TokenReviewAuthenticator, type ReviewPoster } from './delegating.js';

function reviewer(answer: (body: any) => object) {
  const posts: Array<{ path: string; body: any }> = [];
  let gate: Promise<void> | undefined;
  const post: ReviewPoster = async (path, body) => {
    posts.push({ path, body });
    await gate;
    return answer(body);
  };
  return { posts, post, hold: (p: Promise<void>) => (gate = p) };
}

const JANE = { username: 'jane', uid: '42', groups: ['dev', 'system:authenticated'] };
const tokenAnswer = (body: any) => (body.spec.token === 'good' ? { status: { authenticated: true, user: JANE } } : { status: { authenticated: false } });

describe('TokenReviewAuthenticator', () => {
  it('asks the apiserver once per token for 10 seconds, for valid and invalid tokens alike', async () => {
    let now = 1_000_000;
    const r = reviewer(tokenAnswer);
    const a = new TokenReviewAuthenticator({ post: r.post, now: () => now });
    expect(await a.authenticateToken('good')).toEqual({ name: 'jane', uid: '42', groups: ['dev', 'system:authenticated'] });
    expect(await a.authenticateToken('bad')).toBeUndefined();
    now += 9_999;
    expect(await a.authenticateToken('good')).toMatchObject({ name: 'jane' });
    expect(await a.authenticateToken('bad')).toBeUndefined();
    expect(r.posts).toHaveLength(2);
    expect(r.posts[0]).toMatchObject({ path: '/apis/authentication.k8s.io/v1/tokenreviews', body: { kind: 'TokenReview', spec: { token: 'good' } } });
    now += 1;
    expect(await a.authenticateToken('good')).toMatchObject({ name: 'jane' });
    expect(r.posts).toHaveLength(3);
  });

  it('concurrent requests with one token share one TokenReview', async () => {
    const r = reviewer(tokenAnswer);
    let release!: () => void;
    r.hold(new Promise<void>((res) => (release = res)));
    const a = new TokenReviewAuthenticator({ post: r.post });
    const pending = Array.from({ length: 20 }, () => a.authenticateToken('good'));
    release();
    const users = await Promise.all(pending);
    expect(users.every((u) => u?.name === 'jane')).toBe(true);
    expect(r.posts).toHaveLength(1);
  });

  it('does not cache a failed review', async () => {
    let fail = true;
    const post: ReviewPoster = async (_p, body) => {
      if (fail) throw new Error('connection refused');
      return tokenAnswer(body);
    };
    const a = new TokenReviewAuthenticator({ post });
    await expect(a.authenticateToken('good')).rejects.toThrow('connection refused');
    fail = false;
    expect(await a.authenticateToken('good')).toMatchObject({ name: 'jane' });
  });
});

describe('SubjectAccessReviewAuthorizer', () => {
  it('caches allowed and denied decisions for 10 seconds each, per user and path', async () => {
    let now = 0;
    const r = reviewer((body) => ({
      status: body.spec.nonResourceAttributes.path === '/metrics' ? { allowed: true } : { allowed: false, reason: 'no rule' },
    }));
    const z = new SubjectAccessReviewAuthorizer({ post: r.post, now: () => now });
    const user = { name: 'jane', groups: ['dev'] };
    expect(await z.authorize({ user, verb: 'get', path: '/metrics' })).toEqual({ allowed: true, reason: '' });
    expect(await z.authorize({ user, verb: 'get', path: '/debug' })).toEqual({ allowed: false, reason: 'no rule' });
    now += 5_000;
    await z.authorize({ user, verb: 'get', path: '/metrics' });
    await z.authorize({ user, verb: 'get', path: '/debug' });
    expect(r.posts).toHaveLength(2);
    await z.authorize({ user: { name: 'bob', groups: [] }, verb: 'get', path: '/metrics' });
    expect(r.posts).toHaveLength(3);
    expect(r.posts[0]!.body).toMatchObject({ kind: 'SubjectAccessReview', spec: { user: 'jane', groups: ['dev'], nonResourceAttributes: { path: '/metrics', verb: 'get' } } });
    now += 5_000;
    await z.authorize({ user, verb: 'get', path: '/metrics' });
    await z.authorize({ user, verb: 'get', path: '/debug' });
    expect(r.posts).toHaveLength(5);
  });
});

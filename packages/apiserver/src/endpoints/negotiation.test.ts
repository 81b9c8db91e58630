import http from 'node:http';
import { once } from 'node:events';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ListJSONStream } from '../storage/cached-object.js';
import {
  MAX_NESTING_DEPTH,
  decodeBody,
  encodeResponse,
  jsonNestingExceeds,
  negotiateOutput,
  parseMediaType,
  unsupportedMediaTypeFor,
  valueNestingExceeds,
  yamlNestingExceeds,
} from './negotiation.js';
import { deepFreeze } from '../storage/cacher.js';

describe('negotiateOutput', () => {
  it('serves kubectl get a Table and falls back to JSON', () => {
    const kubectl = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    expect(negotiateOutput(kubectl, true)).toEqual({ mediaType: 'application/json', as: 'table' });
    expect(negotiateOutput(kubectl, false)).toEqual({ mediaType: 'application/json', as: 'object' });
  });
  it('serves YAML and rejects protobuf-only clients with 406', () => {
    expect(negotiateOutput('application/yaml', true).mediaType).toBe('application/yaml');
    expect(negotiateOutput('application/vnd.kubernetes.protobuf, */*', true).mediaType).toBe('application/json');
    expect(() => negotiateOutput('application/vnd.kubernetes.protobuf', true)).toThrow(/media types/);
  });
});

describe('decodeBody', () => {
  it('decodes JSON and YAML, and rejects malformed input with 400', () => {
    expect(decodeBody(Buffer.from('{"a":1}'), 'application/json')).toEqual({ a: 1 });
    expect(decodeBody(Buffer.from('a: 1\nb: [x]\n'), 'application/yaml')).toEqual({ a: 1, b: ['x'] });
    try {
      decodeBody(Buffer.from('{"a":'), 'application/json');
      expect.unreachable();
    } catch (err) {
      expect((err as { code: number }).code).toBe(400);
      expect((err as Error).message).toMatch(/json parse error/);
    }
    expect(() => decodeBody(Buffer.from('a: [1\n'), 'application/yaml')).toThrow(/error converting YAML to JSON/);
    expect(() => decodeBody(Buffer.from('k8s\0garbage'), 'application/vnd.kubernetes.protobuf')).toThrow(/protobuf/);
  });
});

const UNKNOWN_FORMAT = 'the body of the request was in an unknown format - accepted media types include: ';

describe('decodeBody content types', () => {
  const status = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return { code: (err as { code: number }).code, message: (err as Error).message };
    }
    throw new Error('did not throw');
  };
  it('refuses what upstream does not decode with 415, naming what it does', () => {
    const refused = ['text/plain', 'application/xml', 'image/png', 'garbage', 'application/json, text/plain', ';;;', 'application/json; charset', 'application/merge-patch+json'];
    for (const type of refused) {
      expect(status(() => decodeBody(Buffer.from('{}'), type)), type).toEqual({
        code: 415,
        message: `${UNKNOWN_FORMAT}application/json, application/yaml, application/vnd.kubernetes.protobuf`,
      });
    }
  });
  it('reads no Content-Type as JSON and ignores parameters and case', () => {
    expect(decodeBody(Buffer.from('{"a":1}'), undefined)).toEqual({ a: 1 });
    expect(decodeBody(Buffer.from('{"a":1}'), '  ')).toEqual({ a: 1 });
    expect(decodeBody(Buffer.from('{"a":1}'), 'application/json; charset=utf-8')).toEqual({ a: 1 });
    expect(decodeBody(Buffer.from('a: 1'), 'Application/YAML; charset="utf-8"')).toEqual({ a: 1 });
  });
  it('parses media types as Go does', () => {
    expect(parseMediaType('application/json;charset=utf-8;')).toBe('application/json');
    expect(parseMediaType('application/json, text/plain')).toBeUndefined();
    expect(parseMediaType('application/json; charset')).toBeUndefined();
    expect(parseMediaType('application/')).toBeUndefined();
    expect(parseMediaType('garbage')).toBe('garbage');
  });
  it('words the 415 of a verb: patches list the patch types', () => {
    expect(unsupportedMediaTypeFor('patch').message).toBe(
      `${UNKNOWN_FORMAT}application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml`,
    );
    expect(unsupportedMediaTypeFor('create').code).toBe(415);
  });
});

describe('nesting depth', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
  it('counts JSON brackets outside strings only', () => {
    expect(jsonNestingExceeds(nested(MAX_NESTING_DEPTH))).toBe(false);
    expect(jsonNestingExceeds(nested(MAX_NESTING_DEPTH + 1))).toBe(true);
    expect(jsonNestingExceeds(`{"a":"${'['.repeat(1000)}","b":"\\"${'{'.repeat(1000)}"}`)).toBe(false);
    expect(jsonNestingExceeds('[[[', 2)).toBe(true);
  });
  it('measures YAML flow, block and compact nesting', () => {
    expect(yamlNestingExceeds(nested(MAX_NESTING_DEPTH))).toBe(false);
    expect(yamlNestingExceeds(nested(MAX_NESTING_DEPTH + 1))).toBe(true);
    let block = '';
    for (let i = 0; i < 12; i++) block += `${' '.repeat(i)}k:\n`;
    expect(yamlNestingExceeds(`${block}${' '.repeat(12)}v\n`, 12)).toBe(false);
    expect(yamlNestingExceeds(`${block}${' '.repeat(12)}k:\n${' '.repeat(13)}v\n`, 12)).toBe(true);
    expect(yamlNestingExceeds(`${'- '.repeat(10)}a\n`, 10)).toBe(false);
    expect(yamlNestingExceeds(`${'- '.repeat(11)}a\n`, 10)).toBe(true);
    // Brackets in a block scalar are text, not nesting.
    expect(yamlNestingExceeds(`config.json: |\n  ${'['.repeat(50)}\n`, 10)).toBe(false);
  });
  it('measures decoded values, shared subtrees by what they expand to', () => {
    let v: unknown = 1;
    for (let i = 0; i < 10; i++) v = [v];
    expect(valueNestingExceeds(v, 10)).toBe(false);
    expect(valueNestingExceeds({ a: v }, 10)).toBe(true);
    const shared = [[[1]]];
    expect(valueNestingExceeds({ a: shared, b: { c: { d: shared } } }, 5)).toBe(true);
    expect(valueNestingExceeds({ a: shared, b: shared }, 4)).toBe(false);
    const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, { x: [i] }]));
    expect(valueNestingExceeds(wide, 3)).toBe(false);
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(valueNestingExceeds(cycle, 10)).toBe(true);
  });
  it('refuses too deep bodies of every kind with 400 before parsing them', () => {
    const deep = `{"a":${nested(100_000)}}`;
    for (const type of ['application/json', 'application/yaml', 'application/apply-patch+yaml']) {
      expect(() => decodeBody(Buffer.from(deep), type)).toThrow(/exceeded max depth of 500/);
    }
    const aliases = `a: &a ${nested(300)}\nb: ${'['.repeat(300)}*a${']'.repeat(300)}\n`;
    expect(() => decodeBody(Buffer.from(aliases), 'application/yaml')).toThrow(/exceeded max depth of 500/);
    expect(decodeBody(Buffer.from(`{"a":${nested(MAX_NESTING_DEPTH - 1)}}`), 'application/yaml')).toBeTruthy();
  });
});

describe('decodeBody YAML', () => {
  it('reads JSON sent as YAML, flow and block style, and refuses repeated keys with 400', () => {
    expect(decodeBody(Buffer.from(' {"a":[1,{"b":"c"}]}'), 'application/apply-patch+yaml')).toEqual({ a: [1, { b: 'c' }] });
    expect(decodeBody(Buffer.from('{a: [1, {b: c}]}'), 'application/yaml')).toEqual({ a: [1, { b: 'c' }] });
    expect(decodeBody(Buffer.from('a:\n  b: 1\n  c: [x]\n'), 'application/yaml')).toEqual({ a: { b: 1, c: ['x'] } });
    expect(() => decodeBody(Buffer.from('a: 1\nb:\n  c: 1\n  c: 2\n'), 'application/yaml')).toThrow(/^error converting YAML to JSON: Map keys must be unique at line 4, column 3:$/);
    expect(() => decodeBody(Buffer.from('a: 1\n---\nb: 2\n'), 'application/yaml')).toThrow(/expected a single YAML document/);
  });
  it('decodes a map of many keys in linear time', () => {
    let text = '';
    for (let i = 0; i < 50_000; i++) text += `k${i}: v\n`;
    const start = performance.now();
    expect(Object.keys(decodeBody(Buffer.from(text), 'application/yaml') as object)).toHaveLength(50_000);
    // The yaml package's own unique-key check compares every key with every other: about 25 s here.
    expect(performance.now() - start).toBeLessThan(8_000);
  });
});

describe('encodeResponse', () => {
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', resourceVersion: '7' }, spec: { containers: [{ name: 'c' }] } });
  const list = () => ({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '9', continue: 'abc', remainingItemCount: 3 }, items: [deepFreeze(pod('a')), pod('b')] });

  it('writes a JSON list from cached item encodings, identical to JSON.stringify', () => {
    const json = { mediaType: 'application/json', as: 'object' } as const;
    const body = encodeResponse(json, list());
    expect(Buffer.isBuffer(body)).toBe(true);
    expect(body.toString()).toBe(JSON.stringify(list()));
    // The same frozen item in two lists: the same bytes.
    const shared = deepFreeze(pod('s'));
    expect(encodeResponse(json, { items: [shared] }).toString()).toBe(encodeResponse(json, { items: [shared] }).toString());
  });

  const bigList = (n: number) => ({ ...list(), items: Array.from({ length: n }, (_, i) => deepFreeze({ ...pod(`p-${i}`), data: 'x'.repeat(1000) })) });

  it('streams a JSON list larger than a batch (1 MiB), with its length known up front, and leaves a large YAML list whole', async () => {
    const json = { mediaType: 'application/json', as: 'object' } as const;
    const value = bigList(2000); // about 2.5 MB: more than a batch
    const body = encodeResponse(json, value);
    expect(body).toBeInstanceOf(ListJSONStream);
    const chunks: Buffer[] = [];
    for await (const chunk of body as ListJSONStream) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1);
    const text = Buffer.concat(chunks);
    expect(text.equals(Buffer.from(JSON.stringify(value)))).toBe(true);
    expect((body as ListJSONStream).byteLength).toBe(text.length);
    expect(typeof encodeResponse({ mediaType: 'application/yaml', as: 'object' }, value)).toBe('string');
  });

  it('lets a streamed list go when the client hangs up half way, and keeps serving', async () => {
    const app = Fastify();
    const sent: ListJSONStream[] = [];
    const value = bigList(20_000); // about 25 MB: more than the sockets hold
    app.get('/list', async (_req, reply) => {
      const body = encodeResponse({ mediaType: 'application/json', as: 'object' }, value) as ListJSONStream;
      sent.push(body);
      return reply.header('content-length', body.byteLength).header('content-type', 'application/json').send(body);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    try {
      const req = http.get({ host: '127.0.0.1', port, path: '/list' });
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      expect(Number(res.headers['content-length'])).toBe(sent[0]!.byteLength);
      await once(res, 'data');
      res.pause();
      await new Promise((r) => setTimeout(r, 50));
      req.destroy();
      await once(sent[0]!, 'close');
      expect(sent[0]!.destroyed).toBe(true);
      expect(sent[0]!.readableEnded).toBe(false);
      // The next client gets the whole list.
      const whole = await fetch(`http://127.0.0.1:${port}/list`);
      expect(whole.headers.get('content-length')).toBe(String(sent[1]!.byteLength));
      expect(await whole.text()).toBe(JSON.stringify(value));
    } finally {
      await app.close();
    }
  });

  it('leaves objects, Tables and YAML to encodeBody', () => {
    expect(encodeResponse({ mediaType: 'application/json', as: 'object' }, pod('a'))).toBe(JSON.stringify(pod('a')));
    const yaml = encodeResponse({ mediaType: 'application/yaml', as: 'object' }, list());
    expect(typeof yaml).toBe('string');
    expect(yaml).toContain('kind: PodList');
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', columnDefinitions: [], rows: [] };
    expect(encodeResponse({ mediaType: 'application/json', as: 'table' }, table)).toBe(JSON.stringify(table));
  });

  it("answers a cached (frozen) object with its encoding, made once and shared", () => {
    const json = { mediaType: 'application/json', as: 'object' } as const;
    const cached = Object.freeze(pod('a'));
    const first = encodeResponse(json, cached);
    expect(first.toString()).toBe(JSON.stringify(pod('a')));
    expect(encodeResponse(json, cached)).toBe(first);
    expect(typeof encodeResponse({ mediaType: 'application/yaml', as: 'object' }, cached)).toBe('string');
  });
});

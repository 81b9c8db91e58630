import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from './index.js';
import { KUBECTL_CASES } from '../../../../../test/fixtures/protobuf/kubectl-cases.js';
import { dropEmpty } from '../../../../../test/fixtures/protobuf/test-normalize.js';

const testdata = new URL('./testdata/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, testdata));

describe('decodeProtobufObject on bodies recorded from kubectl v1.32', () => {
  for (const c of KUBECTL_CASES) {
    it(`kubectl ${c.args.slice(0, 3).join(' ')} (${c.name}) decodes to the JSON kubectl would send`, () => {
      const expected = dropEmpty(JSON.parse(fixture(`${c.name}.json`).toString('utf8')));
      const decoded = decodeProtobufObject(fixture(`${c.name}.pb`));
      expect(decoded.object).toEqual(expected);
      expect(decoded.apiVersion).toBe((expected as { apiVersion: string }).apiVersion);
      expect(decoded.kind).toBe((expected as { kind: string }).kind);
    });
  }
  it('exports the media type kubectl sends', () => {
    expect(PROTOBUF_MEDIA_TYPE).toBe('application/vnd.kubernetes.protobuf');
  });
});

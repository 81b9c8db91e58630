import { describe, expect, it } from 'vitest';
import { invalid, notFound, conflict, OPTIMISTIC_LOCK_MESSAGE } from './errors.js';
import { fieldErrors } from './field-error.js';

describe('StatusError messages', () => {
  it('formats Invalid like upstream', () => {
    const err = invalid({ group: 'apps', kind: 'Deployment' }, 'web', [fieldErrors.invalid('spec.replicas', -1, 'must be greater than or equal to 0')]);
    expect(err.code).toBe(422);
    expect(err.message).toBe('Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect(err.status.details?.causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' },
    ]);
  });
  it('joins several field errors in brackets', () => {
    const err = invalid({ group: '', kind: 'Pod' }, 'p', [fieldErrors.required('spec.containers'), fieldErrors.invalid('metadata.name', 'A_b', 'bad')]);
    expect(err.message).toBe('Pod "p" is invalid: [spec.containers: Required value, metadata.name: Invalid value: "A_b": bad]');
  });
  it('formats NotFound and Conflict', () => {
    expect(notFound({ group: '', resource: 'pods' }, 'x').message).toBe('pods "x" not found');
    expect(conflict({ group: 'apps', resource: 'deployments' }, 'web', OPTIMISTIC_LOCK_MESSAGE).message).toBe(
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
  });
});

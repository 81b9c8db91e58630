import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { buildTable, printerFor } from './index.js';

const now = new Date('2024-06-01T12:00:00Z');

const ns = (name: string, phase = 'Active'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, uid: `uid-${name}`, resourceVersion: '42', creationTimestamp: '2024-06-01T11:00:00Z', labels: { team: 'a' } },
  spec: { finalizers: ['kubernetes'] },
  status: { phase },
});

describe('buildTable', () => {
  const printer = printerFor('', 'namespaces');

  it('defaults to Metadata: each row carries PartialObjectMetadata', () => {
    const table = buildTable(printer, [ns('default'), ns('dev', 'Terminating')], { now, metadata: { resourceVersion: '99' } });
    expect(table).toEqual({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: '99' },
      columnDefinitions: printer.columns,
      rows: [
        {
          cells: ['default', 'Active', '60m'],
          object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: ns('default').metadata },
        },
        {
          cells: ['dev', 'Terminating', '60m'],
          object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: ns('dev').metadata },
        },
      ],
    });
    // Column definitions serialise every field, as upstream's do.
    expect(JSON.parse(JSON.stringify(table.columnDefinitions[0]))).toEqual({
      name: 'Name',
      type: 'string',
      format: 'name',
      description: expect.stringContaining('Name must be unique within a namespace.'),
      priority: 0,
    });
  });

  it('includeObject=Object embeds the whole object; None leaves it out', () => {
    const full = buildTable(printer, [ns('default')], { now, includeObject: 'Object' });
    expect(full.rows[0]!.object).toEqual(ns('default'));
    const none = buildTable(printer, [ns('default')], { now, includeObject: 'None' });
    expect(none.rows[0]).toEqual({ cells: ['default', 'Active', '60m'] });
    expect('object' in none.rows[0]!).toBe(false);
  });

  it('noHeaders drops the column definitions but keeps the cells', () => {
    const t = buildTable(printer, [ns('default')], { now, includeObject: 'None', noHeaders: true });
    expect(t.columnDefinitions).toEqual([]);
    expect(t.rows[0]!.cells).toEqual(['default', 'Active', '60m']);
  });

  it('carries row conditions for finished pods and an empty row list for no objects', () => {
    const pods = printerFor('', 'pods');
    const pod: KubeObject = {
      metadata: { name: 'job-x', creationTimestamp: '2024-06-01T11:00:00Z' },
      spec: { containers: [{ name: 'c' }] },
      status: { phase: 'Succeeded' },
    };
    const t = buildTable(pods, [pod], { now, includeObject: 'None' });
    expect(t.rows[0]!.conditions).toEqual([
      { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
    ]);
    expect(buildTable(pods, [], { now }).rows).toEqual([]);
  });
});

// Printers for core/v1 objects other than pods and replication controllers.
import type {
  ConfigMap,
  Endpoints,
  Event,
  EventSource,
  Namespace,
  Node,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1';
import type { Event as EventV1 } from 'kubernetes-types/events/v1';
import type { KubeObject } from '@kubelab/api';
import type { TablePrinter } from './types.js';
import { doc } from './descriptions.js';
import { ageColumn, col, formatLabels, joinHostPort, nameColumn, wide } from './format.js';
import { parseTimestamp, translateTimestampSince } from './duration.js';

function age(obj: KubeObject, now: Date): string {
  return translateTimestampSince(obj.metadata.creationTimestamp, now);
}

// ---- services ----

const LOAD_BALANCER_WIDTH = 16;

/** Load balancer ingress IPs (else host names), de-duplicated and sorted; clipped unless wide. */
function loadBalancerStatusString(svc: Service, wideOutput: boolean): string {
  const set = new Set<string>();
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (ing.ip) set.add(ing.ip);
    else if (ing.hostname) set.add(ing.hostname);
  }
  let r = [...set].sort().join(',');
  if (!wideOutput && r.length > LOAD_BALANCER_WIDTH) r = r.slice(0, LOAD_BALANCER_WIDTH - 3) + '...';
  return r;
}

/** The EXTERNAL-IP cell of a service. */
export function serviceExternalIP(svc: Service, wideOutput = true): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerStatusString(svc, wideOutput);
      if (externalIPs.length > 0) {
        const results = lb ? lb.split(',') : [];
        return [...results, ...externalIPs].join(',');
      }
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** `80/TCP,443:30443/TCP`, empty for no ports. */
export function servicePortsString(svc: Service): string {
  return (svc.spec?.ports ?? [])
    .map((p) => {
      const protocol = p.protocol ?? 'TCP';
      return p.nodePort ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
    })
    .join(',');
}

export const servicePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Type', 'string', doc.serviceSpecType),
    col('Cluster-IP', 'string', doc.serviceSpecClusterIP),
    col('External-IP', 'string', doc.serviceSpecExternalIPs),
    col('Port(s)', 'string', doc.serviceSpecPorts),
    ageColumn(),
    wide('Selector', 'string', doc.serviceSpecSelector),
  ],
  row(obj, now) {
    const svc = obj as Service;
    // The server prints with Wide set, so load balancer addresses are not clipped here.
    const clusterIP = svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || '<none>';
    return [
      obj.metadata.name ?? '',
      svc.spec?.type ?? '',
      clusterIP,
      serviceExternalIP(svc, true),
      servicePortsString(svc) || '<none>',
      age(obj, now),
      formatLabels(svc.spec?.selector),
    ];
  },
};

// ---- endpoints ----

/** Up to three `ip:port` endpoints, then ` + N more...`; `<none>` without subsets. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, port.port));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: TablePrinter = {
  columns: [nameColumn(), col('Endpoints', 'string', doc.endpointsSubsets), ageColumn()],
  row(obj, now) {
    return [obj.metadata.name ?? '', formatEndpoints(obj as Endpoints), age(obj, now)];
  },
};

// ---- componentstatuses ----

export const componentStatusPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'Status of the component conditions'),
    col('Message', 'string', 'Message of the component conditions'),
    col('Error', 'string', 'Error of the component conditions'),
  ],
  row(obj) {
    const healthy = ((obj.conditions ?? []) as { type?: string; status?: string; message?: string; error?: string }[]).find((c) => c.type === 'Healthy');
    const status = healthy?.status === 'True' ? 'Healthy' : healthy ? 'Unhealthy' : 'Unknown';
    return [obj.metadata.name ?? '', status, healthy?.message ?? '', healthy?.error ?? ''];
  },
};

// ---- namespaces ----

export const namespacePrinter: TablePrinter = {
  columns: [nameColumn(), col('Status', 'string', 'The status of the namespace'), ageColumn()],
  row(obj, now) {
    return [obj.metadata.name ?? '', (obj as Namespace).status?.phase ?? '', age(obj, now)];
  },
};

// ---- nodes ----

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/** Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` value, sorted. */
export function findNodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === NODE_ROLE_LABEL && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

/** `Ready`, `NotReady` or `Unknown`, plus `,SchedulingDisabled` when cordoned. */
export function nodeStatus(node: Node): string {
  const status: string[] = [];
  // Upstream keeps the last condition of each type.
  const ready = (node.status?.conditions ?? []).filter((c) => c.type === 'Ready').pop();
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeAddress(node: Node, type: string): string {
  return (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';
}

export const nodePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    ageColumn(),
    col('Version', 'string', doc.nodeInfoKubeletVersion),
    wide('Internal-IP', 'string', doc.nodeStatusAddresses),
    wide('External-IP', 'string', doc.nodeStatusAddresses),
    wide('OS-Image', 'string', doc.nodeInfoOSImage),
    wide('Kernel-Version', 'string', doc.nodeInfoKernelVersion),
    wide('Container-Runtime', 'string', doc.nodeInfoContainerRuntimeVersion),
  ],
  row(obj, now) {
    const node = obj as Node;
    const info = node.status?.nodeInfo;
    return [
      obj.metadata.name ?? '',
      nodeStatus(node),
      findNodeRoles(node).join(',') || '<none>',
      age(obj, now),
      info?.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
};

// ---- events ----

/** The fields the event printer reads, common to core/v1 and events.k8s.io/v1 events. */
interface EventFields {
  name: string;
  type: string;
  reason: string;
  message: string;
  involvedKind: string;
  involvedName: string;
  fieldPath: string;
  source: EventSource | undefined;
  reportingController: string;
  reportingInstance: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count: number;
  series?: { count?: number; lastObservedTime?: string };
}

function coreEventFields(e: Event): EventFields {
  return {
    name: e.metadata?.name ?? '',
    type: e.type ?? '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    involvedKind: e.involvedObject?.kind ?? '',
    involvedName: e.involvedObject?.name ?? '',
    fieldPath: e.involvedObject?.fieldPath ?? '',
    source: e.source,
    reportingController: e.reportingComponent ?? '',
    reportingInstance: e.reportingInstance ?? '',
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    eventTime: e.eventTime,
    count: e.count ?? 0,
    series: e.series,
  };
}

function eventsV1Fields(e: EventV1): EventFields {
  return {
    name: e.metadata?.name ?? '',
    type: e.type ?? '',
    reason: e.reason ?? '',
    message: e.note ?? '',
    involvedKind: e.regarding?.kind ?? '',
    involvedName: e.regarding?.name ?? '',
    fieldPath: e.regarding?.fieldPath ?? '',
    source: e.deprecatedSource,
    reportingController: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    eventTime: e.eventTime,
    count: e.deprecatedCount ?? 0,
    series: e.series,
  };
}

/** `component, host`, falling back to the reporting controller and instance. */
function formatEventSource(e: EventFields): string {
  const component = e.source?.component || e.reportingController;
  const instance = e.source?.host || e.reportingInstance;
  return instance ? `${component}, ${instance}` : component;
}

function eventRow(e: EventFields, now: Date): unknown[] {
  let first = translateTimestampSince(e.firstTimestamp, now);
  if (parseTimestamp(e.firstTimestamp) === undefined) first = translateTimestampSince(e.eventTime, now);
  let last = translateTimestampSince(e.lastTimestamp, now);
  if (parseTimestamp(e.lastTimestamp) === undefined) last = first;
  let count = e.count;
  if (e.series) {
    last = translateTimestampSince(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    count = 1; // singleton events carry no count in the new API
  }
  const target = e.involvedName ? `${e.involvedKind.toLowerCase()}/${e.involvedName}` : e.involvedKind.toLowerCase();
  return [last, e.type, e.reason, target, e.fieldPath, formatEventSource(e), e.message.trim(), first, count, e.name];
}

const eventColumns = [
  col('Last Seen', 'string', doc.eventLastTimestamp),
  col('Type', 'string', doc.eventType),
  col('Reason', 'string', doc.eventReason),
  col('Object', 'string', doc.eventInvolvedObject),
  wide('Subobject', 'string', doc.objectReferenceFieldPath),
  wide('Source', 'string', doc.eventSource),
  col('Message', 'string', doc.eventMessage),
  wide('First Seen', 'string', doc.eventFirstTimestamp),
  wide('Count', 'string', doc.eventCount),
  col('Name', 'string', doc.metaName, { format: 'name', priority: 1 }),
];

export const eventPrinter: TablePrinter = {
  columns: eventColumns,
  row(obj, now) {
    return eventRow(coreEventFields(obj as Event), now);
  },
};

/** events.k8s.io/v1 Events are printed like core events (upstream converts both to one type). */
export const eventsV1Printer: TablePrinter = {
  columns: eventColumns,
  row(obj, now) {
    return eventRow(eventsV1Fields(obj as EventV1), now);
  },
};

// ---- config and accounts ----

export const configMapPrinter: TablePrinter = {
  columns: [nameColumn(), col('Data', 'string', doc.configMapData), ageColumn()],
  row(obj, now) {
    const cm = obj as ConfigMap;
    const n = Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length;
    return [obj.metadata.name ?? '', n, age(obj, now)];
  },
};

export const secretPrinter: TablePrinter = {
  columns: [nameColumn(), col('Type', 'string', doc.secretType), col('Data', 'string', doc.secretData), ageColumn()],
  row(obj, now) {
    const s = obj as Secret;
    // stringData is write-only and merged into data; count the union in case it is still present.
    const keys = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
    return [obj.metadata.name ?? '', s.type ?? '', keys.size, age(obj, now)];
  },
};

export const serviceAccountPrinter: TablePrinter = {
  columns: [nameColumn(), col('Secrets', 'string', doc.serviceAccountSecrets), ageColumn()],
  row(obj, now) {
    return [obj.metadata.name ?? '', ((obj as ServiceAccount).secrets ?? []).length, age(obj, now)];
  },
};

// ---- resource quotas ----

export const resourceQuotaPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    col(
      'Limit',
      'string',
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    ),
    ageColumn(),
  ],
  row(obj, now) {
    const rq = obj as ResourceQuota;
    const hard = rq.status?.hard ?? {};
    const used = rq.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort()) {
      const entry = `${resource}: ${used[resource] ?? '0'}/${hard[resource]}`;
      const pieces = resource.split('.');
      if (pieces.length > 1 && pieces[0] === 'limits') limits.push(entry);
      else requests.push(entry);
    }
    return [obj.metadata.name ?? '', requests.join(', '), limits.join(', '), age(obj, now)];
  },
};

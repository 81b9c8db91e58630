// Validation for coordination.k8s.io/v1 Lease, discovery.k8s.io/v1 EndpointSlice and events.k8s.io/v1
// Event, as upstream's pkg/apis/{coordination,discovery,core}/validation.
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { ipFamily } from './names.js';
import { PORT_PROTOCOLS } from './pod.js';
import { validateEventCommon } from './core.js';
import { asArray, child, immutable, index, isInRangeErr, validateDNS1123Label, validateDNS1123Subdomain, validateEnum, validateLabels, validateQualifiedName } from './util.js';

type Errs = FieldError[];
const ns = { namespaced: true, nameValidator: nameIsDNSSubdomain };

// ---- Lease ----

function validateLeaseSpec(l: Lease): Errs {
  const errs: Errs = [];
  const s = l.spec ?? {};
  if (typeof s.leaseDurationSeconds === 'number' && s.leaseDurationSeconds <= 0) {
    errs.push(fieldErrors.invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (typeof s.leaseTransitions === 'number' && s.leaseTransitions < 0) {
    errs.push(fieldErrors.invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
  }
  return errs;
}

export function validateLease(l: Lease): Errs {
  return [...validateObjectMeta(l.metadata, ns), ...validateLeaseSpec(l)];
}

export function validateLeaseUpdate(l: Lease, old: Lease): Errs {
  return [...validateObjectMetaUpdate(l.metadata, old.metadata), ...validateLeaseSpec(l)];
}

// ---- EndpointSlice ----

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;

function validateSliceBody(es: EndpointSlice): Errs {
  const errs: Errs = [];
  const at = es.addressType;
  const eps = asArray(es.endpoints);
  if (eps.length > MAX_ENDPOINTS) errs.push(fieldErrors.tooMany('endpoints', eps.length, MAX_ENDPOINTS));
  eps.forEach((ep, i) => {
    const p = index('endpoints', i);
    const ap = child(p, 'addresses');
    const addrs = asArray(ep.addresses);
    if (addrs.length === 0) errs.push(fieldErrors.required(ap, 'must contain at least 1 address'));
    else if (addrs.length > MAX_ADDRESSES) errs.push(fieldErrors.tooMany(ap, addrs.length, MAX_ADDRESSES));
    addrs.forEach((a, j) => {
      const aip = index(ap, j);
      if (at === 'IPv4' && ipFamily(a) !== 4) errs.push(fieldErrors.invalid(aip, a, 'must be a valid IPv4 address'));
      else if (at === 'IPv6' && ipFamily(a) !== 6) errs.push(fieldErrors.invalid(aip, a, 'must be a valid IPv6 address'));
      else if (at === 'FQDN') {
        const name = a.replace(/\.$/, '');
        const sub = validateDNS1123Subdomain(name, aip);
        if (sub.length) errs.push(...sub);
        else if (name.split('.').length < 2) errs.push(fieldErrors.invalid(aip, name, 'should be a domain with at least two segments separated by dots'));
      }
    });
    if (ep.nodeName) errs.push(...validateDNS1123Subdomain(ep.nodeName, child(p, 'nodeName')));
    if (ep.hostname) errs.push(...validateDNS1123Label(ep.hostname, child(p, 'hostname')));
    if (ep.deprecatedTopology) errs.push(...validateLabels(ep.deprecatedTopology, child(p, 'deprecatedTopology')));
  });
  const ports = asArray(es.ports);
  if (ports.length > MAX_PORTS) errs.push(fieldErrors.tooMany('ports', ports.length, MAX_PORTS));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = index('ports', i);
    const name = port.name ?? '';
    if (name) errs.push(...validateDNS1123Label(name, child(p, 'name')));
    if (names.has(name)) errs.push(fieldErrors.duplicate(child(p, 'name'), name));
    names.add(name);
    if (port.protocol === undefined || port.protocol === null) errs.push(fieldErrors.required(child(p, 'protocol'), ''));
    else errs.push(...validateEnum(port.protocol, child(p, 'protocol'), PORT_PROTOCOLS));
    if (port.port !== undefined && port.port !== null) errs.push(...isInRangeErr(port.port, 0, 65535, child(p, 'port')));
    if (port.appProtocol) errs.push(...validateQualifiedName(port.appProtocol, child(p, 'appProtocol')));
  });
  return errs;
}

export function validateEndpointSlice(es: EndpointSlice): Errs {
  const errs = validateObjectMeta(es.metadata, ns);
  if (!ADDRESS_TYPES.includes(es.addressType)) errs.push(fieldErrors.notSupported('addressType', es.addressType ?? '', ADDRESS_TYPES));
  errs.push(...validateSliceBody(es));
  return errs;
}

export function validateEndpointSliceUpdate(es: EndpointSlice, old: EndpointSlice): Errs {
  return [...validateObjectMetaUpdate(es.metadata, old.metadata), ...immutable(es.addressType ?? '', old.addressType ?? '', 'addressType'), ...validateSliceBody(es)];
}

// ---- events.k8s.io/v1 Event ----

export function validateEventsV1Event(ev: EventsV1Event): Errs {
  const errs = validateObjectMeta(ev.metadata, ns);
  errs.push(
    ...validateEventCommon(
      {
        namespace: ev.metadata?.namespace ?? '',
        involvedNamespace: ev.regarding?.namespace ?? '',
        eventTime: ev.eventTime,
        reportingController: ev.reportingController,
        reportingInstance: ev.reportingInstance,
        action: ev.action,
        reason: ev.reason,
        message: ev.note,
        type: ev.type,
      },
      true,
    ),
  );
  if (ev.series) {
    if ((ev.series.count ?? 0) < 2) errs.push(fieldErrors.invalid('series.count', ev.series.count ?? 0, 'should be at least 2'));
    if (!ev.series.lastObservedTime) errs.push(fieldErrors.required('series.lastObservedTime', ''));
  }
  return errs;
}

export function validateEventsV1EventUpdate(ev: EventsV1Event, old: EventsV1Event): Errs {
  const errs = validateObjectMetaUpdate(ev.metadata, old.metadata);
  errs.push(...validateEventsV1Event(ev).filter((e) => !e.field.startsWith('metadata')));
  const pairs: [keyof EventsV1Event, string][] = [
    ['regarding', 'involvedObject'],
    ['reason', 'reason'],
    ['note', 'message'],
    ['deprecatedSource', 'source'],
    ['deprecatedFirstTimestamp', 'firstTimestamp'],
    ['action', 'action'],
    ['reportingController', 'reportingController'],
    ['reportingInstance', 'reportingInstance'],
    ['type', 'type'],
    ['eventTime', 'eventTime'],
    ['related', 'related'],
  ];
  for (const [f, path] of pairs) errs.push(...immutable(ev[f] ?? null, old[f] ?? null, path));
  return errs;
}

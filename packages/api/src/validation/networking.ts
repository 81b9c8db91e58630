// networking.k8s.io/v1 validation: Ingress and IngressClass, as upstream's
// pkg/apis/networking/validation (v1.32): paths and pathType, service backends, host wildcard rules,
// TLS hosts and secret names, the ingress-class annotation, IngressClass controller and parameters.
import type {
  HTTPIngressPath,
  HTTPIngressRuleValue,
  Ingress,
  IngressBackend,
  IngressClass,
  IngressClassParametersReference,
  IngressLoadBalancerStatus,
  IngressRule,
  IngressSpec,
} from 'kubernetes-types/networking/v1';
import type { TypedLocalObjectReference } from 'kubernetes-types/core/v1';
import { fieldErrors, type FieldError } from '../field-error.js';
import { ipFamily, isDNS1123Subdomain, isValidPortName, isValidPortNum, maxLenError, regexError, DNS1123SubdomainMaxLength } from './names.js';
import { nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate, validatePathSegmentName } from './meta.js';
import { asArray, child, immutable, index, msgsToInvalid } from './util.js';

type Errs = FieldError[];

/** The legacy annotation that named a class before spec.ingressClassName. */
export const ANNOTATION_INGRESS_CLASS = 'kubernetes.io/ingress.class';
/** Marks the IngressClass that Ingresses without a class get. */
export const ANNOTATION_IS_DEFAULT_INGRESS_CLASS = 'ingressclass.kubernetes.io/is-default-class';
const MAX_LEN_INGRESS_CLASS_CONTROLLER = 250;
const SUPPORTED_PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const PARAMETER_SCOPES = ['Cluster', 'Namespace'];

// ---- apimachinery helpers upstream keeps in util/validation ----

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const wildcardDNS1123SubdomainFmt = `\\*\\.${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const wildcardDNS1123SubdomainRe = new RegExp(`^(?:${wildcardDNS1123SubdomainFmt})$`);
const wildcardDNS1123SubdomainErrMsg =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";

/** validation.IsWildcardDNS1123Subdomain: `*.` then a DNS subdomain. */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(value, 'utf8') > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!wildcardDNS1123SubdomainRe.test(value)) errs.push(regexError(wildcardDNS1123SubdomainErrMsg, wildcardDNS1123SubdomainFmt, '*.example.com'));
  return errs;
}

const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^(?:${httpPathFmt})$`);

/** validation.IsDomainPrefixedPath: `acme.io/foo`. */
export function isDomainPrefixedPath(path: string, value: string): Errs {
  if (!value) return [fieldErrors.required(path, '')];
  const slash = value.indexOf('/');
  const host = slash < 0 ? '' : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || !host || !rest) return [fieldErrors.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = msgsToInvalid(isDNS1123Subdomain(host), path, host);
  if (!httpPathRe.test(rest)) errs.push(fieldErrors.invalid(path, rest, regexError('Invalid path', httpPathFmt)));
  return errs;
}

/** netutils.ParseIPSloppy accepts what Go's net.ParseIP accepts plus leading zeros. */
function looksLikeIP(host: string): boolean {
  if (ipFamily(host) !== 0) return true;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) && host.split('.').every((o) => Number(o) <= 255);
}

// ---- Ingress ----

function validateHost(host: string, path: string): Errs {
  if (host.includes('*')) return msgsToInvalid(isWildcardDNS1123Subdomain(host), path, host);
  return msgsToInvalid(isDNS1123Subdomain(host), path, host);
}

function validateIngressBackend(backend: IngressBackend | undefined, path: string): Errs {
  const b = backend ?? ({} as IngressBackend);
  const hasResource = b.resource != null;
  const hasService = b.service != null;
  if (hasResource && hasService) return [fieldErrors.invalid(path, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalObjectReference(b.resource as TypedLocalObjectReference, child(path, 'resource'));
  if (!hasService) return [fieldErrors.invalid(path, '', 'resource or service backend is required')];
  const svc = b.service!;
  const errs: Errs = [];
  if (!svc.name) errs.push(fieldErrors.required(child(path, 'service', 'name'), ''));
  else errs.push(...msgsToInvalid(nameIsDNS1035Label(svc.name, false), child(path, 'service', 'name'), svc.name));
  const portName = svc.port?.name ?? '';
  const portNumber = svc.port?.number ?? 0;
  if (portName && portNumber) errs.push(fieldErrors.invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) errs.push(...msgsToInvalid(isValidPortName(portName), child(path, 'service', 'port', 'name'), portName));
  else if (portNumber) errs.push(...msgsToInvalid(isValidPortNum(portNumber), child(path, 'service', 'port', 'number'), portNumber));
  else errs.push(fieldErrors.required(path, 'port name or number is required'));
  return errs;
}

function validateTypedLocalObjectReference(ref: TypedLocalObjectReference, path: string): Errs {
  const errs: Errs = [];
  if (ref.apiGroup != null) errs.push(...msgsToInvalid(isDNS1123Subdomain(ref.apiGroup), child(path, 'apiGroup'), ref.apiGroup));
  for (const f of ['kind', 'name'] as const) {
    if (!ref[f]) errs.push(fieldErrors.required(child(path, f), ''));
    else errs.push(...msgsToInvalid(validatePathSegmentName(ref[f], false), child(path, f), ref[f]));
  }
  return errs;
}

function validateHTTPIngressPath(p: HTTPIngressPath, path: string): Errs {
  const errs: Errs = [];
  if (p.pathType == null || (p.pathType as string) === '') return [fieldErrors.required(child(path, 'pathType'), 'pathType must be specified')];
  const value = p.path ?? '';
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(fieldErrors.invalid(child(path, 'path'), value, 'must be an absolute path'));
      for (const seq of INVALID_PATH_SEQUENCES) {
        if (value.includes(seq)) errs.push(fieldErrors.invalid(child(path, 'path'), value, `must not contain '${seq}'`));
      }
      for (const suffix of INVALID_PATH_SUFFIXES) {
        if (value.endsWith(suffix)) errs.push(fieldErrors.invalid(child(path, 'path'), value, `cannot end with '${suffix}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value && !value.startsWith('/')) errs.push(fieldErrors.invalid(child(path, 'path'), value, 'must be an absolute path'));
      break;
    default:
      errs.push(fieldErrors.notSupported(child(path, 'pathType'), p.pathType, SUPPORTED_PATH_TYPES));
  }
  errs.push(...validateIngressBackend(p.backend, child(path, 'backend')));
  return errs;
}

function validateHTTPIngressRuleValue(http: HTTPIngressRuleValue, path: string): Errs {
  const paths = asArray(http.paths);
  const errs: Errs = [];
  if (paths.length === 0) errs.push(fieldErrors.required(child(path, 'paths'), ''));
  paths.forEach((p, i) => errs.push(...validateHTTPIngressPath(p ?? ({} as HTTPIngressPath), index(child(path, 'paths'), i))));
  return errs;
}

function validateIngressRuleValue(rule: IngressRule, path: string): Errs {
  return rule.http ? validateHTTPIngressRuleValue(rule.http, child(path, 'http')) : [];
}

interface IngressOptions {
  allowInvalidSecretName: boolean;
  allowInvalidWildcardHostRule: boolean;
}

function validateIngressRules(rules: IngressRule[], path: string, opts: IngressOptions): Errs {
  const errs: Errs = [];
  rules.forEach((r, i) => {
    const rule = r ?? ({} as IngressRule);
    const rulePath = index(path, i);
    let wildcard = false;
    if (rule.host) {
      if (looksLikeIP(rule.host)) errs.push(fieldErrors.invalid(child(rulePath, 'host'), rule.host, 'must be a DNS name, not an IP address'));
      wildcard = rule.host.includes('*');
      errs.push(...validateHost(rule.host, child(rulePath, 'host')));
    }
    if (!wildcard || !opts.allowInvalidWildcardHostRule) errs.push(...validateIngressRuleValue(rule, rulePath));
  });
  return errs;
}

function validateTLSSecretName(name: string | undefined): string[] {
  return name ? nameIsDNSSubdomain(name, false) : [];
}

function validateIngressSpec(spec: IngressSpec, path: string, opts: IngressOptions): Errs {
  const errs: Errs = [];
  const rules = asArray(spec.rules);
  if (rules.length === 0 && spec.defaultBackend == null) {
    errs.push(fieldErrors.invalid(path, spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend != null) errs.push(...validateIngressBackend(spec.defaultBackend, child(path, 'defaultBackend')));
  if (rules.length > 0) errs.push(...validateIngressRules(rules, child(path, 'rules'), opts));
  asArray(spec.tls).forEach((t, i) => {
    const tlsPath = index(child(path, 'tls'), i);
    asArray(t?.hosts).forEach((h, j) => errs.push(...validateHost(h, index(child(tlsPath, 'hosts'), j))));
    if (!opts.allowInvalidSecretName) {
      errs.push(...msgsToInvalid(validateTLSSecretName(t?.secretName), child(tlsPath, 'secretName'), t?.secretName));
    }
  });
  if (spec.ingressClassName != null) {
    errs.push(...msgsToInvalid(nameIsDNSSubdomain(spec.ingressClassName, false), child(path, 'ingressClassName'), spec.ingressClassName));
  }
  return errs;
}

function validateIngressCommon(ing: Ingress, opts: IngressOptions): Errs {
  return [...validateObjectMeta(ing.metadata, { namespaced: true, nameValidator: nameIsDNSSubdomain }), ...validateIngressSpec(ing.spec ?? {}, 'spec', opts)];
}

export function validateIngress(ing: Ingress): Errs {
  const errs = validateIngressCommon(ing, { allowInvalidSecretName: false, allowInvalidWildcardHostRule: false });
  const annotation = ing.metadata?.annotations?.[ANNOTATION_INGRESS_CLASS];
  const className = ing.spec?.ingressClassName;
  if (annotation !== undefined && className != null && annotation !== className) {
    errs.push(fieldErrors.invalid(`annotations.${ANNOTATION_INGRESS_CLASS}`, annotation, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

/** Objects stored before a rule was tightened keep passing (upstream's backwards-compatibility options). */
function optionsForUpdate(old: Ingress): IngressOptions {
  return {
    allowInvalidSecretName: asArray(old.spec?.tls).some((t) => validateTLSSecretName(t?.secretName).length > 0),
    allowInvalidWildcardHostRule: asArray(old.spec?.rules).some((r) => !!r?.host?.includes('*') && validateIngressRuleValue(r, '').length > 0),
  };
}

export function validateIngressUpdate(ing: Ingress, old: Ingress): Errs {
  return [...validateObjectMetaUpdate(ing.metadata, old.metadata), ...validateIngressCommon(ing, optionsForUpdate(old)).filter((e) => !e.field.startsWith('metadata'))];
}

function validateIngressLoadBalancerStatus(status: IngressLoadBalancerStatus | undefined, old: IngressLoadBalancerStatus | undefined, path: string): Errs {
  const errs: Errs = [];
  const existing = new Set(asArray(old?.ingress).map((i) => i?.ip).filter(Boolean));
  asArray(status?.ingress).forEach((ing, i) => {
    const p = index(child(path, 'ingress'), i);
    if (ing?.ip && !existing.has(ing.ip) && ipFamily(ing.ip) === 0) errs.push(fieldErrors.invalid(child(p, 'ip'), ing.ip, 'must be a valid IP address'));
    if (ing?.hostname) {
      errs.push(...msgsToInvalid(isDNS1123Subdomain(ing.hostname), child(p, 'hostname'), ing.hostname));
      if (looksLikeIP(ing.hostname)) errs.push(fieldErrors.invalid(child(p, 'hostname'), ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

export function validateIngressStatusUpdate(ing: Ingress, old: Ingress): Errs {
  return [
    ...validateObjectMetaUpdate(ing.metadata, old.metadata),
    ...validateIngressLoadBalancerStatus(ing.status?.loadBalancer, old.status?.loadBalancer, 'status.loadBalancer'),
  ];
}

// ---- IngressClass ----

function validateParametersReference(params: IngressClassParametersReference | undefined, path: string): Errs {
  if (!params) return [];
  const errs = validateTypedLocalObjectReference(params as TypedLocalObjectReference, path);
  if (params.scope == null) {
    errs.push(fieldErrors.required(child(path, 'scope'), ''));
    return errs;
  }
  if (!PARAMETER_SCOPES.includes(params.scope)) {
    errs.push(fieldErrors.notSupported(child(path, 'scope'), params.scope, PARAMETER_SCOPES));
  } else if (params.scope === 'Namespace') {
    if (params.namespace == null) errs.push(fieldErrors.required(child(path, 'namespace'), "`parameters.scope` is set to 'Namespace'"));
    else errs.push(...msgsToInvalid(nameIsDNSLabel(params.namespace, false), child(path, 'namespace'), params.namespace));
  } else if (params.namespace != null) {
    errs.push(fieldErrors.forbidden(child(path, 'namespace'), "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

export function validateIngressClass(ic: IngressClass): Errs {
  const errs = validateObjectMeta(ic.metadata, { namespaced: false, nameValidator: nameIsDNSSubdomain });
  const controller = ic.spec?.controller ?? '';
  if (!controller) {
    errs.push(fieldErrors.required('spec.controller', ''));
  } else {
    if (Buffer.byteLength(controller, 'utf8') > MAX_LEN_INGRESS_CLASS_CONTROLLER) errs.push(fieldErrors.tooLong('spec.controller', '', MAX_LEN_INGRESS_CLASS_CONTROLLER));
    errs.push(...isDomainPrefixedPath('spec.controller', controller));
  }
  errs.push(...validateParametersReference(ic.spec?.parameters, 'spec.parameters'));
  return errs;
}

export function validateIngressClassUpdate(ic: IngressClass, old: IngressClass): Errs {
  return [
    ...validateObjectMetaUpdate(ic.metadata, old.metadata),
    ...immutable(ic.spec?.controller, old.spec?.controller, 'spec.controller'),
    ...validateIngressClass(ic).filter((e) => !e.field.startsWith('metadata')),
  ];
}

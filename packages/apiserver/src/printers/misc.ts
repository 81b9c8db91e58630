// Printers for discovery, coordination and RBAC objects.
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { RoleBinding, Subject } from 'kubernetes-types/rbac/v1';
import type { KubeObject } from '@kubelab/api';
import type { TablePrinter } from './types.js';
import { doc } from './descriptions.js';
import { ageColumn, col, listWithMore, nameColumn, wide } from './format.js';
import { humanDuration, translateTimestampSince } from './duration.js';

function age(obj: KubeObject, now: Date): string {
  return translateTimestampSince(obj.metadata.creationTimestamp, now);
}

export const endpointSlicePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('AddressType', 'string', doc.endpointSliceAddressType),
    col('Ports', 'string', doc.endpointSlicePorts),
    col('Endpoints', 'string', doc.endpointSliceEndpoints),
    ageColumn(),
  ],
  row(obj, now) {
    const slice = obj as EndpointSlice;
    const max = 3;

    const ports: string[] = [];
    let portsMore = false;
    let portCount = 0;
    for (const p of slice.ports ?? []) {
      if (ports.length < max) ports.push(p.port != null ? String(p.port) : (p.name ?? '*'));
      else if (ports.length === max) portsMore = true;
      portCount++;
    }

    const addresses: string[] = [];
    let addrMore = false;
    let addrCount = 0;
    for (const ep of slice.endpoints ?? []) {
      for (const a of ep.addresses ?? []) {
        if (addresses.length < max) addresses.push(a);
        else if (addresses.length === max) addrMore = true;
        addrCount++;
      }
    }

    return [
      obj.metadata.name ?? '',
      slice.addressType ?? '',
      listWithMore(ports, portsMore, portCount, max),
      listWithMore(addresses, addrMore, addrCount, max),
      age(obj, now),
    ];
  },
};

export const leasePrinter: TablePrinter = {
  columns: [nameColumn(), col('Holder', 'string', doc.leaseSpecHolderIdentity), ageColumn()],
  row(obj, now) {
    return [obj.metadata.name ?? '', (obj as Lease).spec?.holderIdentity ?? '', age(obj, now)];
  },
};

/** Users, groups and `namespace/name` service accounts of a binding's subjects. */
function subjectsStrings(subjects: Subject[] | undefined): [string[], string[], string[]] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return [users, groups, sas];
}

function bindingPrinter(kind: 'roleBinding' | 'clusterRoleBinding'): TablePrinter {
  return {
    columns: [
      nameColumn(),
      col('Role', 'string', kind === 'roleBinding' ? doc.roleBindingRoleRef : doc.clusterRoleBindingRoleRef),
      ageColumn(),
      wide('Users', 'string', `Users in the ${kind}`),
      wide('Groups', 'string', `Groups in the ${kind}`),
      wide('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`),
    ],
    row(obj, now) {
      const b = obj as RoleBinding;
      const [users, groups, sas] = subjectsStrings(b.subjects);
      return [
        obj.metadata.name ?? '',
        `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
        age(obj, now),
        users.join(', '),
        groups.join(', '),
        sas.join(', '),
      ];
    },
  };
}

export const roleBindingPrinter = bindingPrinter('roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter('clusterRoleBinding');

/** kubectl get pdb: NAME, MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED DISRUPTIONS, AGE (upstream's printPodDisruptionBudget). */
export const podDisruptionBudgetPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn(),
  ],
  row(obj, now) {
    const spec = (obj as { spec?: { minAvailable?: number | string; maxUnavailable?: number | string } }).spec ?? {};
    const status = (obj as { status?: { disruptionsAllowed?: number } }).status ?? {};
    return [obj.metadata.name ?? '', spec.minAvailable === undefined ? 'N/A' : String(spec.minAvailable), spec.maxUnavailable === undefined ? 'N/A' : String(spec.maxUnavailable), status.disruptionsAllowed ?? 0, age(obj, now)];
  },
};

/**
 * kubectl get csr: NAME, AGE, SIGNERNAME, REQUESTOR, REQUESTEDDURATION, CONDITION (upstream's
 * printCertificateSigningRequest; the condition is Denied, else Approved, else Pending, then ",Failed" and ",Issued").
 */
export const certificateSigningRequestPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    ageColumn(),
    col('SignerName', 'string', 'The name of the signer the request is for.'),
    col('Requestor', 'string', 'The user who created the request.'),
    col('RequestedDuration', 'string', 'The validity period asked for the issued certificate.'),
    col('Condition', 'string', 'Whether the request was approved, denied or failed, and whether a certificate was issued.'),
  ],
  row(obj, now) {
    const csr = obj as { spec?: { signerName?: string; username?: string; expirationSeconds?: number }; status?: { conditions?: { type?: string }[]; certificate?: string } };
    const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
    let condition = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
    if (types.has('Failed')) condition += ',Failed';
    if (csr.status?.certificate) condition += ',Issued';
    const requested = csr.spec?.expirationSeconds === undefined ? '<none>' : humanDuration(csr.spec.expirationSeconds * 1000);
    return [obj.metadata.name ?? '', age(obj, now), csr.spec?.signerName ?? '<none>', csr.spec?.username ?? '', requested, condition];
  },
};

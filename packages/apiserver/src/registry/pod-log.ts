// Counterpart of pkg/registry/core/pod/rest/log.go and LogLocation in pod/strategy.go: GET pods/NAME/log reads
// the pod, picks its container, and streams the kubelet's /containerLogs/{ns}/{pod}/{container} of the pod's node
// (follow, previous, timestamps, sinceSeconds, sinceTime, tailLines, limitBytes passed on).
import { badRequest, findResource, internal, invalid, type FieldError, type ResourceInfo } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { containerFor, kubeletResponseError, kubeletURL, type Connecter, type KubeletClient, type KubeObjectGetter } from './kubelet-client.js';
import { restStorage } from './rest.js';

/** The PodLogOptions query parameters the kubelet understands (upstream's LogLocation). */
const PASSED_ON = ['follow', 'previous', 'timestamps', 'sinceSeconds', 'sinceTime', 'tailLines', 'limitBytes'];

/** Upstream's ValidatePodLogOptions. */
export function validatePodLogOptions(q: URLSearchParams): void {
  const int = (name: string) => {
    const v = q.get(name);
    if (v === null || v === '') return undefined;
    if (!/^[+-]?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const errs: FieldError[] = [];
  const tail = int('tailLines');
  if (tail !== undefined && tail < 0) errs.push({ type: 'FieldValueInvalid' , field: 'tailLines', badValue: tail, detail: 'must be greater than or equal to 0' });
  const limit = int('limitBytes');
  if (limit !== undefined && limit < 1) errs.push({ type: 'FieldValueInvalid' , field: 'limitBytes', badValue: limit, detail: 'must be greater than 0' });
  const since = int('sinceSeconds');
  if (since !== undefined && since < 1) errs.push({ type: 'FieldValueInvalid' , field: 'sinceSeconds', badValue: since, detail: 'must be greater than 0' });
  if (since !== undefined && q.get('sinceTime')) errs.push({ type: 'FieldValueForbidden' , field: '', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (errs.length) throw invalid({ group: '', kind: 'PodLogOptions' }, '', errs);
}

export function podLogREST(opts: { getPod: KubeObjectGetter; getNode: KubeObjectGetter; kubelet: KubeletClient }): Connecter {
  const info: ResourceInfo = findResource('', 'v1', 'pods')!;
  return {
    ...restStorage(info, { apiVersion: 'v1', kind: 'Pod' }),
    connectMethods: ['GET'],
    async connect(namespace, name, query, conn) {
      validatePodLogOptions(query);
      const pod = (await opts.getPod(namespace, name)) as Pod;
      const container = containerFor(pod, query.get('container'));
      const nodeName = pod.spec?.nodeName;
      const { res } = conn;
      // A pod not yet on a node has no log: an empty answer, as upstream's LocationStreamer without a location.
      if (!nodeName) {
        conn.hijack();
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end();
        return;
      }
      const node = (await opts.getNode('', nodeName)) as Node;
      const params = new URLSearchParams();
      for (const p of PASSED_ON) for (const v of query.getAll(p)) params.append(p, v);
      const url = kubeletURL(node, `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`, params);
      const abort = new AbortController();
      res.once('close', () => abort.abort());
      const upstream = await opts.kubelet.get(url, abort.signal).catch((err: Error) => {
        throw internal(new Error(`Get "${url}": ${err.message}`));
      });
      if ((upstream.statusCode ?? 500) < 200 || (upstream.statusCode ?? 500) > 299) throw await kubeletResponseError(upstream, name);
      conn.hijack();
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
      res.flushHeaders();
      res.once('close', () => upstream.destroy());
      upstream.on('error', () => res.destroy());
      upstream.pipe(res);
    },
  };
}

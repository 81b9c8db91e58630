// Counterpart of pkg/registry/core/pod/rest/subresources.go (ExecREST, AttachREST) with ExecLocation and
// AttachLocation of pod/strategy.go: pods/NAME/exec and pods/NAME/attach (GET for WebSocket, POST for SPDY/3.1)
// find the pod's node and container and proxy the upgraded connection to the kubelet's /exec or /attach, with
// PodExecOptions turned into the kubelet's query (input, output, error, tty, command).
import { badRequest, findResource, internal, type ResourceInfo } from '@kubelab/api';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { containerFor, kubeletURL, type Connecter, type KubeletClient, type KubeObjectGetter } from './kubelet-client.js';
import { translateV5, wantsWebSocketV5 } from './pod-exec-translator.js';
import { restStorage } from './rest.js';

/** Go's strconv.ParseBool as the query decoder uses it; absent is false. */
function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False', ''].includes(v)) return false;
  throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** The kubelet's query for an exec or attach session (upstream's streamParams). */
export function kubeletStreamQuery(q: URLSearchParams, kind: 'exec' | 'attach'): URLSearchParams {
  const out = new URLSearchParams();
  if (boolParam(q, 'stdin')) out.append('input', '1');
  if (boolParam(q, 'stdout')) out.append('output', '1');
  if (boolParam(q, 'stderr')) out.append('error', '1');
  if (boolParam(q, 'tty')) out.append('tty', '1');
  if (kind === 'exec') for (const c of q.getAll('command')) out.append('command', c);
  return out;
}

/** The streams a session has, from the kubelet's query. */
function streamsOf(params: URLSearchParams) {
  return { stdin: params.has('input'), stdout: params.has('output'), stderr: params.has('error'), tty: params.has('tty') };
}

function streamREST(kind: 'exec' | 'attach', opts: { getPod: KubeObjectGetter; getNode: KubeObjectGetter; kubelet: KubeletClient }): Connecter {
  const info: ResourceInfo = findResource('', 'v1', 'pods')!;
  return {
    ...restStorage(info, { apiVersion: 'v1', kind: kind === 'exec' ? 'PodExecOptions' : 'PodAttachOptions' }),
    connectMethods: ['GET', 'POST'],
    async connect(namespace, name, query, conn) {
      const params = kubeletStreamQuery(query, kind);
      if (!params.has('input') && !params.has('output') && !params.has('error')) {
        throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
      }
      if (kind === 'exec' && !params.has('command')) throw badRequest('you must specify at least one command for the container');
      const pod = (await opts.getPod(namespace, name)) as Pod;
      const container = containerFor(pod, query.get('container'));
      const nodeName = pod.spec?.nodeName;
      if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
      const node = (await opts.getNode('', nodeName)) as Node;
      const url = kubeletURL(node, `/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`, params);
      const { req } = conn;
      if (!/upgrade/i.test(String(req.headers.connection ?? '')) || !req.headers.upgrade) throw badRequest('Upgrade request required');
      conn.hijack();
      const socket = req.socket;
      socket.setTimeout(0);
      // kubectl's WebSocket asks for v5 only, which runtimes do not speak: the apiserver translates to SPDY (upstream's
      // StreamTranslator). Anything else (SPDY, older WebSocket protocols) goes through as it is.
      const session = wantsWebSocketV5(req)
        ? translateV5(req, socket, streamsOf(params), (headers) => opts.kubelet.dial('POST', url, headers))
        : opts.kubelet.proxyUpgrade(req, socket, url);
      await session.catch((err: Error) => {
        // The connection is ours: answer as Go's proxy does, with the error as text.
        const status = internal(new Error(`error dialing backend: ${err.message}`)).status;
        const body = JSON.stringify(status);
        socket.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      });
    },
  };
}

export const podExecREST = (opts: { getPod: KubeObjectGetter; getNode: KubeObjectGetter; kubelet: KubeletClient }) => streamREST('exec', opts);
export const podAttachREST = (opts: { getPod: KubeObjectGetter; getNode: KubeObjectGetter; kubelet: KubeletClient }) => streamREST('attach', opts);

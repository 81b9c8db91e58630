#!/bin/bash
# A compose lab node (upstream: kind's node entrypoint plus `kubeadm join`): runs containerd, kube-proxy, the kubelet
# (TLS bootstrap with the lab's bootstrap token) and the pod network agent, and exits when one of them exits so that
# compose's restart policy starts the node again. Logs in /var/log/kubelab/ (`docker exec NODE tail -f ...`).
# The join files (/etc/kubernetes/join, written by the compose lab's bootstrap service): ca.crt,
# bootstrap-kubelet.conf (a bootstrap token), kube-proxy.conf.
# Environment: KUBELAB_CLUSTER_CIDR (10.245.0.0/16), KUBELAB_CLUSTER_DNS (10.96.0.10), KUBELAB_REGISTRY (registry:5000),
# KUBELAB_NODE_NAME (default: the container's name on the compose network, e.g. kubelab-node-1, else the hostname),
# KUBELAB_COMPOSE_PROJECT (the compose project's name, for the container's name; default kubelab).
set -euo pipefail
JOIN=/etc/kubernetes/join
CLUSTER_CIDR=${KUBELAB_CLUSTER_CIDR:-10.245.0.0/16}
CLUSTER_DNS=${KUBELAB_CLUSTER_DNS-10.96.0.10}
REGISTRY=${KUBELAB_REGISTRY:-registry:5000}
SANDBOX_IMAGE=registry.k8s.io/pause:3.10
CONTAINERD_CONFIG=/usr/local/lib/kubelab/containerd-config.sh
LOGS=/var/log/kubelab
mkdir -p "$LOGS"
log() { echo "kubelab-node: $*"; }

# /proc/sys is read-only in a container that is not privileged: the node needs forwarding and bridge netfilter.
mount -o remount,rw /proc/sys 2>/dev/null || log "cannot remount /proc/sys read-write"
sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.route_localnet=1
[ -e /proc/sys/net/bridge ] || modprobe br_netfilter 2>/dev/null || true
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || log "no br_netfilter: a Service backend on the client's own node may not answer"

NODE_IP=$(ip -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); print a[1]; exit }')
# The node's name: the container's name on the compose network (kubelab_node_2 with compose v1, kubelab-node-2 with
# v2) made a DNS-1123 name (kubelab-node-2), so that scaled replicas get readable names; else the hostname (the
# container's ID). Docker's DNS answers no PTR query for the asking container itself, so the replicas' names are
# looked up forward (it may take a moment to know a container that just started).
if [ -z "${KUBELAB_NODE_NAME:-}" ]; then
  KUBELAB_NODE_NAME=$(node -e '
    const { lookup } = require("node:dns").promises;
    const [ip, project] = process.argv.slice(1);
    (async () => {
      for (let attempt = 0; attempt < 10; attempt++) {
        // v1 names, then v2; replicas are numbered from 1 without gaps, so each pass stops at the first unknown name
        // (Docker forwards the names it does not know to the host resolver).
        for (const sep of ["_", "-"]) {
          for (let i = 1; i <= 50; i++) {
            const name = `${project}${sep}node${sep}${i}`;
            const found = await lookup(name, { family: 4 }).catch(() => undefined);
            if (found?.address === ip) return console.log(name.toLowerCase().replace(/[^a-z0-9-]/g, "-"));
            if (!found) break;
          }
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();' "$NODE_IP" "${KUBELAB_COMPOSE_PROJECT:-kubelab}")
  KUBELAB_NODE_NAME=${KUBELAB_NODE_NAME:-$(hostname)}
fi
NODE_NAME=$KUBELAB_NODE_NAME
hostname "$NODE_NAME" 2>/dev/null || true
log "node $NODE_NAME at $NODE_IP"

# Pods' cgroups go below this container's own cgroup (<own>/kubepods), so that removing the node removes them.
# cgroup v1 (this project's machines): the host's hierarchies are mounted at /sys/fs/cgroup and /proc/self/cgroup
# names our place in them. A new cpuset cgroup starts empty: its cpus and mems are copied down.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  CGROUP=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
  path=/sys/fs/cgroup
  for part in ${CGROUP//\// } kubepods; do
    for c in $(cat "$path/cgroup.controllers"); do echo "+$c" >"$path/cgroup.subtree_control" 2>/dev/null || true; done
    path=$path/$part
    mkdir -p "$path"
  done
else
  CGROUP=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
  for h in /sys/fs/cgroup/*/; do
    h=${h%/}
    [ -d "$h$CGROUP" ] || continue
    mkdir -p "$h$CGROUP/kubepods"
    if [ "${h##*/}" = cpuset ]; then
      [ -n "$(cat "$h$CGROUP/kubepods/cpuset.cpus")" ] || cat "$h$CGROUP/cpuset.cpus" >"$h$CGROUP/kubepods/cpuset.cpus"
      [ -n "$(cat "$h$CGROUP/kubepods/cpuset.mems")" ] || cat "$h$CGROUP/cpuset.mems" >"$h$CGROUP/kubepods/cpuset.mems"
    fi
  done
fi
CGROUP=${CGROUP%/}

# containerd: CRI with the settings LAB-NOTES lists (the template hack/lib/containerd-config.sh, shared with hack/lab's
# nodes; containerd's default root, state and socket), images from the lab registry for every public registry's name.
mkdir -p /etc/containerd /etc/cni/net.d
"$CONTAINERD_CONFIG" config --node="$NODE_NAME" --written-by=kubelab-node --sandbox-image="$SANDBOX_IMAGE" \
  --stream-address="$NODE_IP" --stream-port=10010 --cni-conf-dir=/etc/cni/net.d --certs-dir=/etc/containerd/certs.d \
  >/etc/containerd/config.toml
"$CONTAINERD_CONFIG" hosts /etc/containerd/certs.d "$REGISTRY" docker.io gcr.io registry.k8s.io k8s.gcr.io quay.io ghcr.io "$REGISTRY"

# The pods' resolver configuration (the kubelet's --resolv-conf): none outside the cluster, as hack/lab (offline).
mkdir -p /etc/kubelab
printf '# kubelab nodes: no resolver outside the cluster (offline lab)\noptions ndots:5\n' >/etc/kubelab/resolv.conf

pids=()
containerd --config /etc/containerd/config.toml >>"$LOGS/containerd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  ctr version >/dev/null 2>&1 && break
  sleep 0.1
done
ctr version >/dev/null 2>&1 || { log "containerd did not answer; $LOGS/containerd.log:"; tail -n 20 "$LOGS/containerd.log"; exit 1; }

for _ in $(seq 1 600); do
  [ -s "$JOIN/bootstrap-kubelet.conf" ] && [ -s "$JOIN/kube-proxy.conf" ] && break
  sleep 0.2
done
[ -s "$JOIN/bootstrap-kubelet.conf" ] || { log "no $JOIN/bootstrap-kubelet.conf (the bootstrap service writes it)"; exit 1; }

# Before the kubelet: a pod must not open connections to a Service before its node has the Service's rules.
node /app/packages/kube-proxy/dist/main.js --kubeconfig="$JOIN/kube-proxy.conf" --hostname-override="$NODE_NAME" \
  --cluster-cidr="$CLUSTER_CIDR" >>"$LOGS/kube-proxy.log" 2>&1 &
pids+=($!)

dns=()
[ -z "$CLUSTER_DNS" ] || dns=(--cluster-dns="$CLUSTER_DNS")
mkdir -p /var/lib/kubelet /etc/kubernetes/manifests
node /app/packages/kubelet/dist/main.js \
  --bootstrap-kubeconfig="$JOIN/bootstrap-kubelet.conf" --kubeconfig=/var/lib/kubelet/kubelet.conf \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
  --container-runtime-endpoint=unix:///run/containerd/containerd.sock --root-dir=/var/lib/kubelet \
  --cgroup-root="$CGROUP" --cluster-domain=cluster.local "${dns[@]}" --resolv-conf=/etc/kubelab/resolv.conf \
  --pod-manifest-path=/etc/kubernetes/manifests --client-ca-file="$JOIN/ca.crt" \
  --authentication-token-webhook --authorization-mode=Webhook >>"$LOGS/kubelet.log" 2>&1 &
pids+=($!)

# The pod network (kindnet's part): the CNI config once the node has its pod CIDR, routes to the other nodes' CIDRs.
NODE_NAME=$NODE_NAME CLUSTER_CIDR=$CLUSTER_CIDR KUBECONFIG=$JOIN/kube-proxy.conf node /app/node/node-agent.js >>"$LOGS/node-agent.log" 2>&1 &
pids+=($!)

stop() {
  log "stopping"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait
  exit 0
}
trap stop TERM INT
# The first of them to exit takes the node down (compose's restart policy brings it back).
set +e
wait -n "${pids[@]}"
code=$?
log "a node process exited ($code); last lines of the logs:"
for f in "$LOGS"/*.log; do echo "--- $f"; tail -n 5 "$f"; done
kill -TERM "${pids[@]}" 2>/dev/null
exit 1

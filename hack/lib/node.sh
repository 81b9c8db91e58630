#!/usr/bin/env bash
# Kubelab nodes on this machine (upstream counterpart: kind's node containers / a kubeadm node's runtime
# setup): each node is a network namespace with a veth to the host bridge and its own containerd (own
# root, state, socket, CNI conf dir and cgroup), with the offline images of hack/images imported.
#   hack/lib/node.sh up NAME INDEX          create/start node NAME with IP 172.30.0.(10+INDEX) (idempotent)
#   hack/lib/node.sh down NAME              remove everything `up` made for NAME (a second down is a no-op)
#   hack/lib/node.sh status                 list the nodes
#   hack/lib/node.sh cni NAME POD_CIDR      write NAME's CNI conflist (bridge + host-local + portmap), route
#                                           POD_CIDR from the host via the node
#   hack/lib/node.sh routes                 routes between the nodes' pod CIDRs, from "NAME POD_CIDR NODE_IP" lines on stdin
#   hack/lib/node.sh env NAME               print NAME's settings as shell variables
# Sourcing this file defines the same functions (node_up, node_down, node_status, node_cni, node_env,
# node_routes, node_images) for hack/lab. containerd's CRI streaming server (exec/attach/port-forward) listens on
# NODE_IP:10010. Needs root. Layout for node NAME:
#   /run/netns/NAME                    network namespace (eth0 = NODE_IP, default route via the bridge)
#   /run/kubelab/NAME/                 containerd.sock, containerd.pid, containerd state, node.env
#   /var/lib/kubelab/NAME/             containerd root, CNI host-local leases (cni/networks)
#   /etc/kubelab/NAME/                 containerd.toml, cni/net.d/ (the kubelet's CNI config)
#   /var/log/kubelab/NAME/             containerd.log; pods/ for the kubelet's pod logs (podLogsDir)
#   cgroup kubelab/NAME                containerd and shims in kubelab/NAME/runtime; pods belong under
#                                      kubelab/NAME/kubepods (the kubelet's sandbox cgroup_parent)
# Shared by the nodes, made by the first `up` and removed by the last `down`: the host bridge kubelab0
# (172.30.0.1/24), its iptables rules, and the offline image registry on 172.30.0.1:5100 (state in
# /run/kubelab/_host) that every node's containerd pulls from, so CRI PullImage works with no internet.
# Node traffic stays on this machine: the host does not forward from the bridge to any other interface.

KUBELAB_BRIDGE=${KUBELAB_BRIDGE:-kubelab0}
KUBELAB_NODE_NET=${KUBELAB_NODE_NET:-172.30.0}   # /24; .1 is the host's address on the bridge
KUBELAB_CLUSTER_CIDR=${KUBELAB_CLUSTER_CIDR:-10.244.0.0/16}
KUBELAB_SANDBOX_IMAGE=${KUBELAB_SANDBOX_IMAGE:-registry.k8s.io/pause:3.10}
KUBELAB_STREAM_PORT=${KUBELAB_STREAM_PORT:-10010}
KUBELAB_REGISTRY_PORT=${KUBELAB_REGISTRY_PORT:-5100}
# Registries whose images the nodes pull from the offline image registry (hack/images/registry.ts).
KUBELAB_MIRRORED_REGISTRIES=${KUBELAB_MIRRORED_REGISTRIES:-docker.io gcr.io registry.k8s.io k8s.gcr.io quay.io ghcr.io}
_KL_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KUBELAB_IMAGES_DIR=${KUBELAB_IMAGES_DIR:-$_KL_REPO/.kubelab/images}
_KL_COMMENT="kubelab"

_kl_log() { echo "==> $*" >&2; }
_kl_die() { echo "node.sh: $*" >&2; return 1; }

# node_env NAME: the node's paths and addresses as shell assignments.
node_env() {
  local name=$1 index=${2:-}
  if [ -z "$index" ] && [ -f "/run/kubelab/$name/node.env" ]; then index=$(sed -n 's/^NODE_INDEX=//p' "/run/kubelab/$name/node.env"); fi
  cat <<EOF
NODE_NAME=$name
NODE_INDEX=$index
NODE_IP=${index:+$KUBELAB_NODE_NET.$((10 + index))}
NODE_NETNS=/run/netns/$name
NODE_RUN=/run/kubelab/$name
NODE_LIB=/var/lib/kubelab/$name
NODE_ETC=/etc/kubelab/$name
NODE_LOG=/var/log/kubelab/$name
NODE_POD_LOGS=/var/log/kubelab/$name/pods
NODE_CONTAINERD_SOCK=/run/kubelab/$name/containerd.sock
NODE_CNI_CONF_DIR=/etc/kubelab/$name/cni/net.d
NODE_CGROUP=kubelab/$name
NODE_VETH=$(_kl_veth "$name")
EOF
}

_kl_veth() { echo "klv-$(echo -n "$1" | md5sum | cut -c1-8)"; }

# The cgroup directories of a relative cgroup path: one on cgroup v2, one per controller on v1.
_kl_cgroup_dirs() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup/$1"
  else
    local h
    for h in cpu cpuacct cpuset memory pids blkio devices freezer hugetlb systemd; do
      if mountpoint -q "/sys/fs/cgroup/$h" 2>/dev/null; then echo "/sys/fs/cgroup/$h/$1"; fi
    done
  fi
}

_kl_cgroup_create() {
  local rel=$1 d parent
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    # v2: enable the controllers down the path so pods below can be limited.
    local path=/sys/fs/cgroup part
    for part in ${rel//\// }; do
      for c in $(cat "$path/cgroup.controllers"); do echo "+$c" >"$path/cgroup.subtree_control" 2>/dev/null || true; done
      path=$path/$part
      mkdir -p "$path"
    done
    return
  fi
  for d in $(_kl_cgroup_dirs "$rel"); do
    [ -d "$d" ] && continue
    mkdir -p "$d"
    case $d in
      /sys/fs/cgroup/cpuset/*)
        # cpuset: a new cgroup has no CPUs or memory nodes; copy them down from the first level.
        parent=/sys/fs/cgroup/cpuset
        local part
        for part in ${rel//\// }; do
          [ -s "$parent/$part/cpuset.cpus" ] && [ -n "$(cat "$parent/$part/cpuset.cpus")" ] ||
            cat "$parent/cpuset.cpus" >"$parent/$part/cpuset.cpus"
          [ -n "$(cat "$parent/$part/cpuset.mems")" ] || cat "$parent/cpuset.mems" >"$parent/$part/cpuset.mems"
          parent=$parent/$part
        done
        ;;
    esac
  done
}

# Every process in a cgroup tree (all hierarchies).
_kl_cgroup_pids() {
  local d
  for d in $(_kl_cgroup_dirs "$1"); do
    if [ -d "$d" ]; then find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi
  done | sort -u
}

_kl_install() {
  local need=()
  command -v containerd >/dev/null 2>&1 || need+=(containerd)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  [ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  command -v iptables >/dev/null 2>&1 || need+=(iptables)
  command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
  dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
  if [ ${#need[@]} -gt 0 ]; then
    _kl_log "installing ${need[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# Host side, shared by all nodes: bridge, and FORWARD rules keeping node traffic on this machine.
_kl_bridge_up() {
  if ! ip link show "$KUBELAB_BRIDGE" >/dev/null 2>&1; then
    ip link add "$KUBELAB_BRIDGE" type bridge
    ip addr add "$KUBELAB_NODE_NET.1/24" dev "$KUBELAB_BRIDGE"
  fi
  ip link set "$KUBELAB_BRIDGE" up
  iptables -C FORWARD -i "$KUBELAB_BRIDGE" -o "$KUBELAB_BRIDGE" -m comment --comment "$_KL_COMMENT" -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD -i "$KUBELAB_BRIDGE" -o "$KUBELAB_BRIDGE" -m comment --comment "$_KL_COMMENT" -j ACCEPT
  iptables -C FORWARD -i "$KUBELAB_BRIDGE" ! -o "$KUBELAB_BRIDGE" -m comment --comment "$_KL_COMMENT" -j DROP 2>/dev/null ||
    iptables -A FORWARD -i "$KUBELAB_BRIDGE" ! -o "$KUBELAB_BRIDGE" -m comment --comment "$_KL_COMMENT" -j DROP
}

_kl_registry_running() { [ -f /run/kubelab/_host/registry.pid ] && _kl_alive "$(cat /run/kubelab/_host/registry.pid)"; }

_kl_registry_up() {
  _kl_registry_running && return 0
  rm -f /run/kubelab/_host/registry.pid
  command -v node >/dev/null 2>&1 || { echo "node.sh: node not found: image pulls will fail (images are imported)" >&2; return 0; }
  local i
  mkdir -p /run/kubelab/_host /var/log/kubelab
  # setsid -f: detached at once, with no shell left waiting on it (and holding fds such as the lock's).
  (cd "$_KL_REPO" && exec setsid -f sh -c 'echo $$ >/run/kubelab/_host/registry.pid; exec node --import tsx hack/images/registry.ts "$@"' \
    registry --listen="$KUBELAB_NODE_NET.1:$KUBELAB_REGISTRY_PORT" --dir="$KUBELAB_IMAGES_DIR" </dev/null >>/var/log/kubelab/registry.log 2>&1 9<&-)
  for i in $(seq 1 20); do [ -s /run/kubelab/_host/registry.pid ] && break; sleep 0.05; done
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$KUBELAB_NODE_NET.1/$KUBELAB_REGISTRY_PORT") 2>/dev/null && return 0
    _kl_registry_running || break
    sleep 0.1
  done
  echo "node.sh: the image registry did not start; see /var/log/kubelab/registry.log" >&2
}

_kl_registry_down() {
  if _kl_registry_running; then
    local pid
    pid=$(cat /run/kubelab/_host/registry.pid)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do _kl_alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf /run/kubelab/_host
  rm -f /var/log/kubelab/registry.log
}

_kl_bridge_down() {
  while iptables -D FORWARD -i "$KUBELAB_BRIDGE" -o "$KUBELAB_BRIDGE" -m comment --comment "$_KL_COMMENT" -j ACCEPT 2>/dev/null; do :; done
  while iptables -D FORWARD -i "$KUBELAB_BRIDGE" ! -o "$KUBELAB_BRIDGE" -m comment --comment "$_KL_COMMENT" -j DROP 2>/dev/null; do :; done
  ip link del "$KUBELAB_BRIDGE" 2>/dev/null || true
}

# containerd's config (the template hack/lib/containerd-config.sh, shared with the compose lab's node image): this
# node's own root, state, sockets, CNI conf dir and registry hosts, next to the other nodes' containerds.
_kl_containerd_config() {
  "$_KL_REPO/hack/lib/containerd-config.sh" config --node="$NODE_NAME" --written-by=hack/lib/node.sh \
    --root="$NODE_LIB/containerd" --state="$NODE_RUN/containerd" --address="$NODE_CONTAINERD_SOCK" --opt-path="$NODE_LIB/opt" \
    --sandbox-image="$KUBELAB_SANDBOX_IMAGE" --stream-address="$NODE_IP" --stream-port="$KUBELAB_STREAM_PORT" \
    --cni-conf-dir="$NODE_CNI_CONF_DIR" --certs-dir="$NODE_ETC/certs.d"
}

# node_cni NAME POD_CIDR [FILE]: the CNI conflist for the node's pod CIDR (stdout when FILE is "-").
# containerd's CRI plugin brings up the pod's loopback itself (the loopback plugin from bin_dir).
node_cni() {
  local name=$1 cidr=$2 file=${3:-}
  [ -n "$cidr" ] || { _kl_die "usage: cni NAME POD_CIDR [FILE]"; return 1; }
  local conf
  conf=$(cat <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kubelab",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$cidr" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "/var/lib/kubelab/$name/cni/networks"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
)
  if [ "$file" = - ]; then echo "$conf"; return; fi
  file=${file:-/etc/kubelab/$name/cni/net.d/10-kubelab.conflist}
  mkdir -p "$(dirname "$file")"
  echo "$conf" >"$file.tmp" && mv "$file.tmp" "$file"
  # Pods reach anything outside the cluster's pod network (the host, services' backends on the host)
  # as the node's IP; pod-to-pod traffic keeps its source address.
  local ns=/run/netns/$name rule=(-s "$cidr" ! -d "$KUBELAB_CLUSTER_CIDR" -m comment --comment "$_KL_COMMENT" -j MASQUERADE)
  if [ -e "$ns" ]; then
    nsenter --net="$ns" iptables -t nat -C POSTROUTING "${rule[@]}" 2>/dev/null ||
      nsenter --net="$ns" iptables -t nat -A POSTROUTING "${rule[@]}"
    # The host (a kubelet's probes, tests) reaches the node's pods through the node.
    local ip
    ip=$(sed -n 's/^NODE_IP=//p' "/run/kubelab/$name/node.env" 2>/dev/null)
    [ -z "$ip" ] || ip route replace "$cidr" via "$ip" dev "$KUBELAB_BRIDGE"
  fi
}

# node_routes: in every node, a route to each other node's pod CIDR via that node's IP (kindnet's part in
# kind), from lines "NAME POD_CIDR NODE_IP" on stdin; routes to nodes no longer listed are removed.
node_routes() {
  local routes name cidr ip other
  routes=$(cat)
  while read -r name _ _; do
    [ -e "/run/netns/$name" ] || continue
    local want=""
    while read -r other cidr ip; do
      [ "$other" = "$name" ] && continue
      nsenter --net="/run/netns/$name" ip route replace "$cidr" via "$ip" dev eth0
      want="$want $cidr"
    done <<<"$routes"
    nsenter --net="/run/netns/$name" ip route show | awk '$2 == "via" || $3 == "via" {print $1}' | while read -r cidr; do
      case $cidr in default) continue ;; esac
      case " $want " in *" $cidr "*) ;; *) nsenter --net="/run/netns/$name" ip route del "$cidr" 2>/dev/null || true ;; esac
    done
  done <<<"$routes"
}

# A process that exists and is not a zombie (kill -0 succeeds on zombies).
_kl_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

_kl_containerd_running() { [ -f "$NODE_RUN/containerd.pid" ] && _kl_alive "$(cat "$NODE_RUN/containerd.pid")"; }

_kl_ctr() { ctr --address "$NODE_CONTAINERD_SOCK" -n k8s.io "$@"; }

# node_up NAME INDEX
node_up() {
  local name=${1:-} index=${2:-}
  [ -n "$name" ] && [ -n "$index" ] || { _kl_die "usage: up NAME INDEX"; return 1; }
  [ "$(id -u)" = 0 ] || { _kl_die "must run as root"; return 1; }
  eval "$(node_env "$name" "$index")"
  if [ -f "$NODE_RUN/node.env" ] && ! grep -qx "NODE_INDEX=$index" "$NODE_RUN/node.env"; then
    _kl_die "node $name exists with another index; run down first"; return 1
  fi
  _kl_install
  mkdir -p "$NODE_RUN" "$NODE_LIB" "$NODE_ETC/certs.d" "$NODE_CNI_CONF_DIR" "$NODE_LOG" "$NODE_POD_LOGS"
  node_env "$name" "$index" >"$NODE_RUN/node.env"

  # Shared pieces under a lock (fd 9 on /run, closed for the processes started): nodes may come up and go
  # down in parallel.
  exec 9</run
  flock 9
  _kl_bridge_up
  _kl_registry_up
  exec 9<&-
  if [ ! -e "$NODE_NETNS" ]; then
    ip netns add "$name"
  fi
  if ! ip link show "$NODE_VETH" >/dev/null 2>&1; then
    ip link add "$NODE_VETH" type veth peer name eth0 netns "$name"
  fi
  ip link set "$NODE_VETH" master "$KUBELAB_BRIDGE" up
  # A node made again has a new MAC behind its old IP: drop the host's cached neighbour entry, or replies go to
  # the old MAC until the entry goes stale (about 30 s of lost connections).
  ip neigh del "$NODE_IP" dev "$KUBELAB_BRIDGE" 2>/dev/null || true
  local in=(nsenter --net="$NODE_NETNS")
  "${in[@]}" ip link set lo up
  "${in[@]}" ip addr replace "$NODE_IP/24" dev eth0
  "${in[@]}" ip link set eth0 up
  "${in[@]}" ip route replace default via "$KUBELAB_NODE_NET.1"
  "${in[@]}" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.route_localnet=1
  # Bridged pod-to-pod traffic passes iptables (kube-proxy's DNAT and its reverse for a service backend on the
  # client's own bridge), as upstream requires of the node (br_netfilter, per network namespace).
  [ -e /proc/sys/net/bridge ] || modprobe br_netfilter 2>/dev/null || true
  "${in[@]}" sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || _kl_log "$name: no br_netfilter: a service backend on the client's node may not answer"

  _kl_cgroup_create "$NODE_CGROUP/runtime"
  _kl_cgroup_create "$NODE_CGROUP/kubepods"
  _kl_containerd_config >"$NODE_ETC/containerd.toml"
  # shellcheck disable=SC2086
  "$_KL_REPO/hack/lib/containerd-config.sh" hosts "$NODE_ETC/certs.d" "$KUBELAB_NODE_NET.1:$KUBELAB_REGISTRY_PORT" $KUBELAB_MIRRORED_REGISTRIES

  local i
  if ! _kl_containerd_running; then
    rm -f "$NODE_CONTAINERD_SOCK" "$NODE_RUN/containerd.pid"
    # Join the node's cgroups, then become containerd in the node's network namespace (shims inherit both).
    local procs
    procs=$(for d in $(_kl_cgroup_dirs "$NODE_CGROUP/runtime"); do printf '%s/cgroup.procs ' "$d"; done)
    # The PID file is written by the process itself: setsid may fork.
    setsid -f sh -c 'for f in '"$procs"'; do echo $$ >"$f"; done; echo $$ >"$2"; exec nsenter --net="$0" containerd --config "$1"' \
      "$NODE_NETNS" "$NODE_ETC/containerd.toml" "$NODE_RUN/containerd.pid" </dev/null >>"$NODE_LOG/containerd.log" 2>&1 9<&-
    for i in $(seq 1 20); do [ -s "$NODE_RUN/containerd.pid" ] && break; sleep 0.05; done
  fi
  for i in $(seq 1 100); do
    [ -S "$NODE_CONTAINERD_SOCK" ] && ctr --address "$NODE_CONTAINERD_SOCK" version >/dev/null 2>&1 && break
    _kl_containerd_running || { _kl_die "containerd for $name exited; see $NODE_LOG/containerd.log"; return 1; }
    sleep 0.1
  done
  [ "$i" -lt 100 ] || { _kl_die "containerd for $name did not answer on $NODE_CONTAINERD_SOCK"; return 1; }
  node_images "$name"
}

# node_images NAME: import the offline images (built first if needed) unless this build already is.
node_images() {
  eval "$(node_env "$1")"
  "$_KL_REPO/hack/images/build.sh" >/dev/null
  local stamp f
  stamp=$(cat "$KUBELAB_IMAGES_DIR/stamp")
  if [ "$(cat "$NODE_LIB/images.stamp" 2>/dev/null)" = "$stamp" ] &&
    _kl_ctr images ls -q | grep -qx "$KUBELAB_SANDBOX_IMAGE"; then
    return 0
  fi
  for f in "$KUBELAB_IMAGES_DIR"/*.tar; do
    _kl_ctr images import --all-platforms "$f" >/dev/null
  done
  echo "$stamp" >"$NODE_LIB/images.stamp"
}

# node_down NAME
node_down() {
  local name=${1:-}
  [ -n "$name" ] || { _kl_die "usage: down NAME"; return 1; }
  [ "$(id -u)" = 0 ] || { _kl_die "must run as root"; return 1; }
  eval "$(node_env "$name")"
  # The pods' network namespaces (made by containerd under /run/netns) are those its processes are in.
  local pid ino pids netns_inodes="" n f
  pids=$(_kl_cgroup_pids "$NODE_CGROUP")
  # ... plus every descendant of those processes (containers started without a cgroup_parent below us).
  local all="$pids" frontier="$pids" next
  for _ in 1 2 3 4 5; do
    [ -n "$frontier" ] || break
    next=$(for pid in $frontier; do cat "/proc/$pid/task/"*/children 2>/dev/null; done | tr ' ' '\n' | grep -v '^$' || true)
    all="$all $next"
    frontier=$next
  done
  for pid in $all; do
    ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) && netns_inodes="$netns_inodes $ino"
  done
  local ns_files=() id
  for f in /run/netns/cni-*; do
    [ -e "$f" ] || continue
    ino=$(stat -L -c %i "$f" 2>/dev/null) || continue
    case " $netns_inodes " in *" $ino "*) ns_files+=("$f") ;; esac
  done
  # ... and those containerd recorded for its sandboxes (also when their processes are gone).
  if _kl_containerd_running; then
    for id in $(timeout 10 ctr --address "$NODE_CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null || true); do
      f=$(timeout 5 ctr --address "$NODE_CONTAINERD_SOCK" -n k8s.io containers info "$id" 2>/dev/null |
        grep -o '/var/run/netns/cni-[0-9a-f-]*' | head -n 1 || true)
      [ -n "$f" ] && [ -e "/run/netns/${f##*/}" ] && ns_files+=("/run/netns/${f##*/}")
    done
  fi

  if _kl_containerd_running; then
    kill -TERM "$(cat "$NODE_RUN/containerd.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do _kl_containerd_running || break; sleep 0.1; done
  fi
  # Containers, shims, and containerd if it did not stop.
  for n in 1 2 3 4 5 6 7 8 9 10; do
    local alive=""
    for pid in $all $(_kl_cgroup_pids "$NODE_CGROUP"); do
      if _kl_alive "$pid"; then alive=1; kill -KILL "$pid" 2>/dev/null || true; fi
    done
    [ -n "$alive" ] || break
    sleep 0.2
  done
  # Shim sockets live under /run/containerd/s; their addresses are recorded in the task bundles.
  for f in "$NODE_RUN"/containerd/io.containerd.runtime.v2.task/*/*/address; do
    [ -f "$f" ] || continue
    n=$(sed 's|^unix://||' "$f")
    case $n in /run/containerd/s/*) rm -f "$n" ;; esac
  done
  # Mounts: the pods' netns, then everything under the node's directories (deepest first).
  for f in "${ns_files[@]}"; do umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || true; rm -f "$f"; done
  local m
  { awk '{print $2}' /proc/mounts | grep -E "^($NODE_RUN|$NODE_LIB|$NODE_ETC)(/|$)" || true; } | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if [ -e "$NODE_NETNS" ]; then ip netns del "$name" 2>/dev/null || { umount -l "$NODE_NETNS" 2>/dev/null; rm -f "$NODE_NETNS"; }; fi
  ip link del "$NODE_VETH" 2>/dev/null || true
  [ -z "$NODE_IP" ] || ip neigh del "$NODE_IP" dev "$KUBELAB_BRIDGE" 2>/dev/null || true
  if [ -n "$NODE_IP" ]; then
    ip route show | { grep " via $NODE_IP " || true; } | while read -r m; do ip route del $m 2>/dev/null || true; done
  fi
  local d
  for d in $(_kl_cgroup_dirs "$NODE_CGROUP"); do
    if [ -d "$d" ]; then find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; fi
  done
  rm -rf "$NODE_RUN" "$NODE_LIB" "$NODE_ETC" "$NODE_LOG"
  # The last node takes the shared pieces with it.
  exec 9</run
  flock 9
  if ! ls /run/kubelab/*/node.env >/dev/null 2>&1; then
    _kl_registry_down
    _kl_bridge_down
    rmdir /run/kubelab /var/lib/kubelab /etc/kubelab /var/log/kubelab 2>/dev/null || true
    for d in $(_kl_cgroup_dirs kubelab); do rmdir "$d" 2>/dev/null || true; done
  fi
  exec 9<&-
  return 0
}

node_status() {
  local f
  printf '%-20s %-14s %-10s %-8s %s\n' NODE IP CONTAINERD TASKS SOCKET
  for f in /run/kubelab/*/node.env; do
    [ -f "$f" ] || continue
    (
      eval "$(cat "$f")"
      local state=stopped tasks=-
      if _kl_containerd_running; then
        state="pid $(cat "$NODE_RUN/containerd.pid")"
        tasks=$(timeout 3 ctr --address "$NODE_CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null | wc -l)
      fi
      printf '%-20s %-14s %-10s %-8s %s\n' "$NODE_NAME" "$NODE_IP" "$state" "$tasks" "$NODE_CONTAINERD_SOCK"
    )
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cmd=${1:-}
  shift || true
  case $cmd in
    up) node_up "$@" ;;
    down) node_down "$@" ;;
    status) node_status ;;
    cni) node_cni "$@" ;;
    routes) node_routes ;;
    env) node_env "$@" ;;
    images) node_images "$@" ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
fi

#!/usr/bin/env bash
# containerd's configuration for a Kubelab node (upstream: what kind's node image and kubeadm's docs put in
# /etc/containerd/config.toml for the CRI plugin), with the settings LAB-NOTES.md lists. One template for both kinds
# of node: hack/lib/node.sh (hack/lab's network-namespace nodes, many containerds on one machine) and the compose
# lab's node image (deploy/docker/node/entrypoint.sh; the node Dockerfile copies this file to
# /usr/local/lib/kubelab/containerd-config.sh).
#   containerd-config.sh config --node=NAME --written-by=WHO --sandbox-image=IMAGE --stream-address=IP
#       --stream-port=PORT --cni-conf-dir=DIR --certs-dir=DIR [--root=DIR --state=DIR --address=SOCKET --opt-path=DIR]
#     prints config.toml (version 2); root, state, the gRPC/ttrpc sockets and the opt plugin's path only when given
#     (else containerd's defaults, as a node that is the only containerd of its machine or container has them)
#   containerd-config.sh hosts CERTS_DIR MIRROR REGISTRY...
#     writes CERTS_DIR/REGISTRY/hosts.toml for each REGISTRY: images pulled from the plain-HTTP registry MIRROR
#     (host:port), so that a node with no internet pulls every public registry's images from the lab's registry
set -euo pipefail

config() {
  local node="" written_by="" sandbox_image="" stream_address="" stream_port="" cni_conf_dir="" certs_dir=""
  local root="" state="" address="" opt_path="" arg
  for arg in "$@"; do
    case $arg in
      --node=*) node=${arg#*=} ;;
      --written-by=*) written_by=${arg#*=} ;;
      --sandbox-image=*) sandbox_image=${arg#*=} ;;
      --stream-address=*) stream_address=${arg#*=} ;;
      --stream-port=*) stream_port=${arg#*=} ;;
      --cni-conf-dir=*) cni_conf_dir=${arg#*=} ;;
      --certs-dir=*) certs_dir=${arg#*=} ;;
      --root=*) root=${arg#*=} ;;
      --state=*) state=${arg#*=} ;;
      --address=*) address=${arg#*=} ;;
      --opt-path=*) opt_path=${arg#*=} ;;
      *) echo "containerd-config.sh: unknown flag $arg" >&2; return 2 ;;
    esac
  done
  local required
  for required in node written_by sandbox_image stream_address stream_port cni_conf_dir certs_dir; do
    [ -n "${!required}" ] || { echo "containerd-config.sh: --${required//_/-} is required" >&2; return 2; }
  done

  echo "# containerd for kubelab node $node (written by $written_by)"
  echo "version = 2"
  [ -z "$root" ] || echo "root = \"$root\""
  [ -z "$state" ] || echo "state = \"$state\""
  cat <<EOF
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
EOF
  if [ -n "$address" ]; then
    printf '\n[grpc]\n  address = "%s"\n\n[ttrpc]\n  address = "%s.ttrpc"\n' "$address" "$address"
  fi
  [ -z "$opt_path" ] || printf '\n[plugins."io.containerd.internal.v1.opt"]\n  path = "%s"\n' "$opt_path"
  cat <<EOF

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$sandbox_image"
  # The machine's capability bounding set lacks CAP_SYS_RESOURCE (see LAB-NOTES.md).
  restrict_oom_score_adj = true
  # Streaming (exec/attach/port-forward) on the node's IP, reachable from the kubelet that proxies the streams.
  stream_server_address = "$stream_address"
  stream_server_port = "$stream_port"
  enable_tls_streaming = false
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$cni_conf_dir"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$certs_dir"
EOF
}

hosts() {
  [ $# -ge 3 ] || { echo "usage: containerd-config.sh hosts CERTS_DIR MIRROR REGISTRY..." >&2; return 2; }
  local dir=$1 mirror=$2 reg
  shift 2
  for reg in "$@"; do
    mkdir -p "$dir/$reg"
    printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$mirror" "$mirror" >"$dir/$reg/hosts.toml"
  done
}

cmd=${1:-}
shift || true
case $cmd in
  config) config "$@" ;;
  hosts) hosts "$@" ;;
  *) echo "usage: containerd-config.sh config --node=NAME ... | hosts CERTS_DIR MIRROR REGISTRY..." >&2; exit 2 ;;
esac

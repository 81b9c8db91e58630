#!/usr/bin/env bash
# Kubelab's offline pod images (upstream counterpart: the images a cluster pulls from registry.k8s.io and
# Docker Hub): builds OCI image archives from Debian's busybox-static and small static C programs, no
# registry involved. Output (default .kubelab/images, or $KUBELAB_IMAGES_DIR):
#   <image>.tar   OCI image layout archive (oci-layout, index.json, blobs/sha256/...), one per image,
#                 its index naming every reference the image is known by (`ctr images import` uses them)
#   blobs/        every blob, shared (layers are plain tar: digest = diff_id)
#   images.txt    "<reference> <image>.tar <manifest digest>" per line, for scripts and docs
# A second run with unchanged inputs only compares a stamp. See hack/images/README.md for the images.
#   hack/images/build.sh [--force]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${KUBELAB_IMAGES_DIR:-$REPO/.kubelab/images}
FORCE=${1:-}
EPOCH="1970-01-01T00:00:00Z"

# Image table: key | layers | entrypoint (JSON) | cmd (JSON) | extra env (JSON items) | ports | references
IMAGES=(
  "pause|pause|[\"/pause\"]|||| registry.k8s.io/pause:3.10"
  "busybox|busybox||[\"sh\"]||| docker.io/library/busybox:latest docker.io/library/busybox:1.28 docker.io/library/busybox:1.36
    docker.io/library/busybox:1.36.1 docker.io/library/busybox:stable"
  "nginx|busybox web|[\"/docker-entrypoint.sh\"]|[\"httpd\",\"-f\",\"-v\",\"-p\",\"80\",\"-h\",\"/usr/share/nginx/html\"]||80|
    docker.io/library/nginx:latest docker.io/library/nginx:1.7.9 docker.io/library/nginx:1.14.2 docker.io/library/nginx:1.15.11
    docker.io/library/nginx:1.16.1 docker.io/library/nginx:1.25 docker.io/library/nginx:1.27 docker.io/library/nginx:alpine
    docker.io/library/nginx:stable registry.k8s.io/nginx-slim:0.8"
  "httpd|busybox web|[\"/docker-entrypoint.sh\"]|[\"httpd\",\"-f\",\"-v\",\"-p\",\"80\",\"-h\",\"/usr/local/apache2/htdocs\"]||80|
    docker.io/library/httpd:latest docker.io/library/httpd:2.4 docker.io/library/httpd:alpine"
  "k8s-demo|busybox web|[\"/docker-entrypoint.sh\"]|[\"httpd\",\"-f\",\"-v\",\"-p\",\"3000\",\"-h\",\"/srv/k8s-demo\"]||3000|
    docker.io/wardviaene/k8s-demo:latest docker.io/wardviaene/k8s-demo:2"
  "kuard-blue|busybox kuard|[\"/kuard\"]||\"KUARD_VERSION=blue\"|8080|
    gcr.io/kuar-demo/kuard-amd64:blue gcr.io/kuar-demo/kuard-amd64:1"
  "kuard-green|busybox kuard|[\"/kuard\"]||\"KUARD_VERSION=green\"|8080|
    gcr.io/kuar-demo/kuard-amd64:green gcr.io/kuar-demo/kuard-amd64:2"
  "kuard-purple|busybox kuard|[\"/kuard\"]||\"KUARD_VERSION=purple\"|8080|
    gcr.io/kuar-demo/kuard-amd64:purple gcr.io/kuar-demo/kuard-amd64:3"
  "echoserver|busybox kuard|[\"/kuard\",\"--address=:8080\"]||\"ECHO_ALL=1\"|8080|
    gcr.io/google_containers/echoserver:1.4 k8s.gcr.io/echoserver:1.4 registry.k8s.io/echoserver:1.4 registry.k8s.io/echoserver:1.10"
  "dns|busybox node dns|[\"/usr/local/bin/node\",\"/kubelab/dns.mjs\"]|||| docker.io/kubelab/dns:latest"
  "ingress-controller|busybox node ingress|[\"/usr/local/bin/node\",\"/kubelab/ingress-controller.mjs\"]|||80| docker.io/kubelab/ingress-controller:latest"
)

BUSYBOX=/bin/busybox
NODE=$(command -v node)
if ! dpkg -s busybox-static >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then
  echo "==> installing busybox-static gcc libc6-dev (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends busybox-static gcc libc6-dev >/dev/null
fi

# The cluster DNS (packages/dns) as one JavaScript file for the dns image, run by the host's node binary, with
# the API schema that packages/api reads beside it at run time.
DEFINITIONS=$REPO/packages/api/src/schema/generated/definitions.json
DNS_BUNDLE=$(mktemp)
INGRESS_BUNDLE=$(mktemp) # the ingress controller (packages/ingress-controller), bundled the same way
trap 'rm -f "$DNS_BUNDLE" "$INGRESS_BUNDLE"' EXIT
# bundle PACKAGE OUTFILE
bundle() {
  (cd "$REPO" && node_modules/.bin/esbuild "packages/$1/src/main.ts" --bundle --platform=node --target=node20 --format=esm \
    --conditions=source --log-level=warning --outfile="$2" \
    --banner:js="import { createRequire as __kubelabCreateRequire } from 'node:module'; const require = __kubelabCreateRequire(import.meta.url);")
}
bundle dns "$DNS_BUNDLE"
bundle ingress-controller "$INGRESS_BUNDLE"

# Everything the output depends on; unchanged inputs mean nothing to do.
stamp=$( {
  cd "$HERE" && find build.sh src rootfs -type f | LC_ALL=C sort | while read -r f; do
    printf '%s %s\n' "$f" "$(stat -c %a "$f")"; cat "$f"; done
  sha256sum "$BUSYBOX" "$NODE"; sha256sum <"$DNS_BUNDLE"; sha256sum <"$INGRESS_BUNDLE"; sha256sum <"$DEFINITIONS"; gcc --version | head -n 1
} | sha256sum | cut -d' ' -f1)
if [ "$FORCE" != --force ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ]; then
  missing=""
  for spec in "${IMAGES[@]}"; do [ -f "$OUT/${spec%%|*}.tar" ] || missing=1; done
  if [ -z "$missing" ]; then echo "images up to date in $OUT"; exit 0; fi
fi

start=$(date +%s%N)
mkdir -p "$OUT/blobs/sha256"
WORK=$(mktemp -d "$OUT/.work.XXXXXX") # same filesystem as the blobs: archives hard-link them
trap 'rm -rf "$WORK" "$DNS_BUNDLE" "$INGRESS_BUNDLE"' EXIT

TAR_OPTS=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)

# blob FILE -> stores FILE as a blob, prints "sha256:<hex> <size>"
blob() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  [ -f "$OUT/blobs/sha256/$hex" ] || cp "$1" "$OUT/blobs/sha256/$hex"
  echo "$hex" >>"$WORK/blobs.txt"
  echo "sha256:$hex $size"
}

# Layer trees.
L=$WORK/layers
mkdir -p "$L/pause" "$L/busybox" "$L/web" "$L/kuard/bin" "$L/node/usr/local/bin" "$L/dns/kubelab" "$L/ingress/kubelab/generated"
gcc -static -Os -s -Wall -Wextra -o "$L/pause/pause" "$HERE/src/pause.c"
gcc -static -Os -s -Wall -Wextra -o "$L/kuard/bin/memhog" "$HERE/src/memhog.c"

(
  cd "$L/busybox"
  mkdir -p bin sbin usr/bin usr/sbin etc root home tmp var/www var/spool/cron proc sys dev
  chmod 1777 tmp
  chmod 700 root
  cp "$BUSYBOX" bin/busybox
  "$BUSYBOX" --list-full | while read -r applet; do
    [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' \
    >etc/passwd
  printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' >etc/group
  printf 'hosts: files dns\n' >etc/nsswitch.conf
)
cp -a "$HERE/rootfs/busybox/." "$L/busybox/"
# printenv (coreutils' behaviour), which busybox lacks.
gcc -static -Os -s -Wall -Wextra -o "$L/busybox/usr/local/bin/printenv" "$HERE/src/printenv.c"
cp -a "$HERE/rootfs/web/." "$L/web/"
mkdir -p "$L/web/etc/nginx/conf.d" "$L/web/var/log/nginx"
cp -a "$HERE/rootfs/kuard/." "$L/kuard/"
# Node.js: the host's binary and the shared libraries it loads, at the paths the loader looks in.
cp "$NODE" "$L/node/usr/local/bin/node"
ldd "$NODE" | grep -o '/[^ ]*' | while read -r lib; do
  mkdir -p "$L/node$(dirname "$lib")"
  cp -L "$lib" "$L/node$lib"
done
cp "$DNS_BUNDLE" "$L/dns/kubelab/dns.mjs"
mkdir -p "$L/dns/kubelab/generated"
cp "$DEFINITIONS" "$L/dns/kubelab/generated/definitions.json"
cp "$INGRESS_BUNDLE" "$L/ingress/kubelab/ingress-controller.mjs"
cp "$DEFINITIONS" "$L/ingress/kubelab/generated/definitions.json"

declare -A LAYER
for name in pause busybox web kuard node dns ingress; do
  (cd "$L/$name" && tar "${TAR_OPTS[@]}" -cf "$WORK/$name.tar" $(ls -A))
  LAYER[$name]=$(blob "$WORK/$name.tar")
done

: >"$WORK/images.txt"
for spec in "${IMAGES[@]}"; do
  IFS='|' read -r key layers entrypoint cmd env ports refs <<<"$(echo "$spec" | tr '\n' ' ')"
  diff_ids="" layer_descs="" history=""
  for l in $layers; do
    read -r dgst size <<<"${LAYER[$l]}"
    diff_ids+="${diff_ids:+,}\"$dgst\""
    layer_descs+="${layer_descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$dgst\",\"size\":$size}"
    history+="${history:+,}{\"created\":\"$EPOCH\",\"created_by\":\"hack/images/build.sh: layer $l\"}"
  done
  cfg="\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"${env:+,$env}]"
  [ -n "$entrypoint" ] && cfg+=",\"Entrypoint\":$entrypoint"
  [ -n "$cmd" ] && cfg+=",\"Cmd\":$cmd"
  cfg+=",\"WorkingDir\":\"/\""
  [ -n "$ports" ] && cfg+=",\"ExposedPorts\":{\"$ports/tcp\":{}}"
  cfg+=",\"Labels\":{\"org.opencontainers.image.title\":\"kubelab $key\",\"org.opencontainers.image.source\":\"kubelab hack/images\"}"
  printf '{"created":"%s","architecture":"amd64","os":"linux","config":{%s},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
    "$EPOCH" "$cfg" "$diff_ids" "$history" >"$WORK/$key.config.json"
  read -r cfg_dgst cfg_size <<<"$(blob "$WORK/$key.config.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",%s}' \
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$cfg_dgst\",\"size\":$cfg_size},\"layers\":[$layer_descs]" \
    >"$WORK/$key.manifest.json"
  read -r man_dgst man_size <<<"$(blob "$WORK/$key.manifest.json")"

  # The archive: oci-layout, index.json naming each reference, and the blobs this image needs.
  A=$WORK/archive-$key
  mkdir -p "$A/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$A/oci-layout"
  entries=""
  for ref in $refs; do
    entries+="${entries:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$man_dgst\",\"size\":$man_size,"
    entries+="\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},"
    entries+="\"annotations\":{\"io.containerd.image.name\":\"$ref\",\"org.opencontainers.image.ref.name\":\"${ref##*:}\"}}"
    echo "$ref $key.tar $man_dgst" >>"$WORK/images.txt"
  done
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}\n' "$entries" >"$A/index.json"
  for l in $layers; do read -r dgst _ <<<"${LAYER[$l]}"; ln "$OUT/blobs/sha256/${dgst#sha256:}" "$A/blobs/sha256/"; done
  ln "$OUT/blobs/sha256/${cfg_dgst#sha256:}" "$OUT/blobs/sha256/${man_dgst#sha256:}" "$A/blobs/sha256/"
  (cd "$A" && tar "${TAR_OPTS[@]}" -cf "$WORK/$key.tar" oci-layout index.json blobs)
  mv "$WORK/$key.tar" "$OUT/$key.tar"
done
mv "$WORK/images.txt" "$OUT/images.txt"
# Drop blobs of earlier builds.
for f in "$OUT"/blobs/sha256/*; do grep -qx "${f##*/}" "$WORK/blobs.txt" || rm -f "$f"; done
echo "$stamp" >"$OUT/stamp"
echo "built $(wc -l <"$OUT/images.txt") image references in $(( ($(date +%s%N) - start) / 1000000 )) ms into $OUT"

#!/bin/sh
# The compose lab's one-shot init (upstream: `kubeadm init phase certs/kubeconfig` plus the encryption config a
# hardened kubeadm cluster gets). Runs in the control-plane image as /usr/local/bin/kubelab-compose-init:
# makes the PKI, kubeconfigs (server https://kube-apiserver:6443) and the EncryptionConfiguration in
# /etc/kubernetes (a volume the control plane shares), and writes the host kubectl's kubeconfig to /out.
# Existing files are reused, so a second `up` keeps the cluster's identity.
# Environment: KUBELAB_APISERVER_SANS, KUBELAB_ETCD_SANS (comma separated), KUBELAB_HOST_SERVER (the host's URL).
set -eu
PKI=/etc/kubernetes/pki
node /app/packages/component-base/dist/pki/main.js init --dir "$PKI" --server https://kube-apiserver:6443 \
  --apiserver-cert-extra-sans="$KUBELAB_APISERVER_SANS" --etcd-cert-extra-sans="$KUBELAB_ETCD_SANS" --node-name=etcd
ENC=/etc/kubernetes/encryption-config.yaml
if [ ! -f "$ENC" ]; then
  umask 077
  cat >"$ENC" <<YAML
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: $(head -c 32 /dev/urandom | base64)
      - identity: {}
YAML
  echo "[encryption] Writing $ENC"
fi
mkdir -p /out
sed "s#server: https://kube-apiserver:6443#server: $KUBELAB_HOST_SERVER#" "$PKI/admin.conf" >/out/kubeconfig.tmp
chmod 600 /out/kubeconfig.tmp
mv /out/kubeconfig.tmp /out/kubeconfig
echo "[kubeconfig] Wrote the host's kubeconfig (server $KUBELAB_HOST_SERVER)"

# The components' bundles, shared by hack/lab and hack/join. The caller sets BUNDLES (the output directory),
# COMPONENT_ENTRY (bundle name -> TypeScript entry point), KUBELAB_TSX (non-empty: run the sources through tsx, no
# bundles) and the functions now/elapsed, and runs from the repository's root.

# The content stamp of the bundles' inputs: every source of the workspace packages (the bundles take what they
# import of them), the manifests, the bundler's settings and the COMPONENT_ENTRY table.
bundles_stamp() {
  {
    find packages/*/src -type f ! -name '*.test.ts' ! -path '*/testdata/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum package-lock.json packages/*/package.json tsconfig.json hack/build-js.ts 2>/dev/null || true
    for c in "${!COMPONENT_ENTRY[@]}"; do echo "$c=${COMPONENT_ENTRY[$c]}"; done | LC_ALL=C sort
  } | sha256sum | cut -d' ' -f1
}

# bundles_build: $BUNDLES/<name>.mjs for every component, rebuilt only when bundles_stamp changed (a second
# `up` costs a hash of the sources; an edited source is never run stale). Processes already running keep the code they
# loaded until they are restarted.
bundles_build() {
  [ -z "$KUBELAB_TSX" ] || return 0
  local stamp c entries=() missing=""
  stamp=$(bundles_stamp)
  for c in "${!COMPONENT_ENTRY[@]}"; do [ -f "$BUNDLES/$c.mjs" ] || missing=1; done
  [ -z "$missing" ] && [ "$(cat "$BUNDLES/stamp" 2>/dev/null)" = "$stamp" ] && return 0
  local t0
  t0=$(now)
  for c in "${!COMPONENT_ENTRY[@]}"; do entries+=("$c=${COMPONENT_ENTRY[$c]}"); done
  rm -f "$BUNDLES/stamp"
  node --import tsx hack/build-js.ts --bundle --outdir "$BUNDLES" "${entries[@]}" >/dev/null
  echo "$stamp" >"$BUNDLES/stamp"
  echo "==> component bundles in $BUNDLES: $(elapsed "$t0")"
}

# Node.js flags per component. The controller-manager starts some 30 controllers' informers at once: that burst
# grows V8's young generation, which an idle process then keeps (about 24 MB of its RSS); a 1 MB semi-space does not.
declare -A COMPONENT_NODE_FLAGS=([controller-manager]=--max-semi-space-size=1)

# component NAME: the command that runs component NAME, into CMD (its flags follow).
component() {
  local flags=()
  [ -z "${COMPONENT_NODE_FLAGS[$1]:-}" ] || flags=("${COMPONENT_NODE_FLAGS[$1]}")
  if [ -n "$KUBELAB_TSX" ]; then
    CMD=(node "${flags[@]}" --conditions=source --import tsx "${COMPONENT_ENTRY[$1]}")
  else
    CMD=(node "${flags[@]}" "$BUNDLES/$1.mjs")
  fi
}

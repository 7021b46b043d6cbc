#!/usr/bin/env bash
# Writes an OCI image layout archive (image-spec image-layout.md) by hand from a rootfs directory:
# one uncompressed tar layer, the image config, the manifest and index.json, all addressed by sha256.
# No registry is needed: `ctr images import` and `podman load` read the archive.
#   oci-image.sh ROOTFS_DIR OUT.tar REF [CMD_JSON]   (REF e.g. localhost/conformance/busybox:latest;
#                                                   CMD_JSON the config's Cmd, default ["sh"])
set -euo pipefail
rootfs=${1:?usage: $0 ROOTFS_DIR OUT.tar REF}
out=${2:?usage: $0 ROOTFS_DIR OUT.tar REF}
ref=${3:?usage: $0 ROOTFS_DIR OUT.tar REF}
cmd=${4:-'["sh"]'}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# blob FILE MEDIATYPE -> moves FILE into blobs/ and prints its descriptor JSON.
blob() {
  local digest size
  digest=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$work/blobs/sha256/$digest"
  jq -cn --arg m "$2" --arg d "sha256:$digest" --argjson s "$size" '{mediaType: $m, digest: $d, size: $s}'
}

# The layer: reproducible (sorted, fixed owner and mtime).
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00Z' -C "$rootfs" -cf "$work/layer.tar" .
layer_digest=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
layer=$(blob "$work/layer.tar" application/vnd.oci.image.layer.v1.tar)

jq -cn --arg diff "sha256:$layer_digest" --argjson cmd "$cmd" '{
  created: "2024-01-01T00:00:00Z",
  architecture: "amd64",
  os: "linux",
  config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: $cmd, WorkingDir: "/"},
  rootfs: {type: "layers", diff_ids: [$diff]},
  history: [{created: "2024-01-01T00:00:00Z", created_by: "conformance/lib/oci-image.sh (busybox-static)"}]
}' > "$work/config.json"
config=$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)

jq -cn --argjson c "$config" --argjson l "$layer" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: [$l]}' > "$work/manifest.json"
manifest=$(blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)

jq -cn --argjson m "$manifest" --arg ref "$ref" --arg tag "${ref##*:}" '{
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [$m + {platform: {architecture: "amd64", os: "linux"},
                    annotations: {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": $tag}}]
}' > "$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00Z' -C "$work" -cf "$out" oci-layout index.json blobs
echo "${manifest}" | jq -r .digest

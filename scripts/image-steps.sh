#!/usr/bin/env bash
# Builds what docker/Dockerfile puts in /app, without a Docker engine: the same phases of
# docker/image-steps.sh, on a clean checkout of HEAD (committed files only, as a CI build
# would see them), into a directory laid out like the image's /app.
#   scripts/image-steps.sh OUT_DIR [CONFIG_FILE]   (CONFIG_FILE like --build-arg BQSYNC_CONFIG_FILE)
# Left out, because they need root and a base image: the apt-get of tini and the USER line.
set -euo pipefail
out="${1:?usage: scripts/image-steps.sh OUT_DIR [CONFIG_FILE]}"
config="${2:-bqsync.yaml}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT

log() { printf '[image-steps] %s\n' "$*" >&2; }

log "checkout of $(git -C "$repo" rev-parse --short HEAD) into $src"
git clone --quiet --no-hardlinks "$repo" "$src/src"

# Stage "build" (WORKDIR /src)
log "build stage: deps"
(cd "$src/src" && sh docker/image-steps.sh deps)
log "build stage: build"
(cd "$src/src" && sh docker/image-steps.sh build)

# Stage "cli" (WORKDIR /app)
rm -rf "$out"
mkdir -p "$out/docker"
cp "$src/src/package.json" "$src/src/package-lock.json" "$out/"
cp "$src/src/docker/image-steps.sh" "$out/docker/"
log "runtime stage: runtime"
(cd "$out" && sh docker/image-steps.sh runtime)
cp -R "$src/src/dist" "$out/dist"
cp "$src/src/$config" "$out/bqsync.yaml"
log "done: $out ($(du -sh "$out" | cut -f1))"

#!/bin/sh
# The build steps of the bqsync image, in one place: docker/Dockerfile runs them in its
# stages, and scripts/image-steps.sh runs the same phases on a clean checkout where there
# is no Docker engine, so that the image's contents can be tested without one.
#   image-steps.sh deps      in the source tree, package files only: all dependencies
#   image-steps.sh build     in the source tree: compile to dist/ and bundle the workflows
#   image-steps.sh runtime   in the runtime directory: production dependencies only
set -eu
case "${1:-}" in
  deps)
    npm ci --no-audit --no-fund --loglevel=error
    ;;
  build)
    npm run build
    ;;
  runtime)
    npm ci --omit=dev --no-audit --no-fund --loglevel=error
    npm cache clean --force 2>/dev/null
    ;;
  *)
    echo "usage: $0 deps|build|runtime" >&2
    exit 2
    ;;
esac

#!/bin/sh
# Chooses the PilotLab role from the container command (see docker/Dockerfile). `exec` makes node
# PID 1's direct replacement, so SIGTERM from `docker stop` reaches Nest's shutdown hooks.
set -e
case "${1:-api}" in
  api) shift || true; exec node dist/src/main.js "$@" ;;
  worker) shift; exec node dist/src/worker.js "$@" ;;
  migrate) shift; exec node dist/src/database/migrate.js "$@" ;;
  *) exec "$@" ;;
esac

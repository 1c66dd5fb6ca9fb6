#!/bin/sh
# Entry point of the image: `web` (migrates first, then daphne), `worker`, `scheduler`, or any command.
set -e

case "$1" in
  web)
    python manage.py init_platform
    exec daphne --bind 0.0.0.0 --port "${PORT:-8000}" --proxy-headers asgi:application
    ;;
  worker)
    exec python manage.py rundramatiq --processes "${WORKER_PROCESSES:-2}" --threads "${WORKER_THREADS:-8}"
    ;;
  scheduler)
    exec python manage.py run_scheduler
    ;;
  *)
    exec "$@"
    ;;
esac

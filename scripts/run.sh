#!/usr/bin/env bash
# `make run`: starts lwm2md on its embedded SQLite registry under ./var, creating an API
# token for project "default" on the first run and printing it (it is kept, readable
# only by you, in var/api-token).
set -euo pipefail
build=${1:-build}
mkdir -p var && chmod 700 var  # the registry in it holds device secrets
db=var/lwm2md.db
if [ ! -s var/api-token ]; then
  umask 077
  # Its log (the schema made step by step on a fresh database) only when it fails.
  if ! "$build/lwm2md" token create --db "$db" --project default > var/api-token \
      2> var/token-create.log; then
    cat var/token-create.log >&2
    rm -f var/api-token
    exit 1
  fi
  rm -f var/token-create.log
fi
echo "API token for project 'default': $(cat var/api-token)  (kept in var/api-token)"
echo "try: curl -H \"X-Auth-Token: \$(cat var/api-token)\" http://127.0.0.1:8080/v5/iot/default/products"
exec "$build/lwm2md" --db "$db" "${@:2}"

#!/bin/sh
# Creates the dev overlay's Secrets with random passwords (nothing secret is stored in the
# repository). Run once per namespace before `kubectl apply -k deploy/k8s/overlays/dev`. Running it
# again creates only what is missing: a deleted <service>-database or supervision-amqp is rebuilt
# from the passwords already in postgresql-roles and rabbitmq-admin. A new password for a role
# (delete postgresql-roles and the <service>-database Secrets, run this, then rerun the initdb script:
#   kubectl -n supervision-dev exec postgresql-0 -- sh /docker-entrypoint-initdb.d/10-services.sh
# and restart the Deployments).
#   NAMESPACE=supervision-dev ./create-secrets.sh
set -eu
NAMESPACE=${NAMESPACE:-supervision-dev}
SERVICES="command_center mobile_enforcement complaints emergency facilities assessment gateway"

random() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
exists() { kubectl -n "$NAMESPACE" get secret "$1" >/dev/null 2>&1; }
value() { kubectl -n "$NAMESPACE" get secret "$1" -o "jsonpath={.data.$2}" | base64 -d; }
create() {  # name, then --from-literal arguments
  name=$1; shift
  if exists "$name"; then echo "secret/$name exists, left alone"; return; fi
  kubectl -n "$NAMESPACE" create secret generic "$name" "$@"
}

kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl apply -f "$(dirname "$0")/namespace.yaml"

create postgresql-admin --from-literal=POSTGRES_PASSWORD="$(random)"
create rabbitmq-admin --from-literal=RABBITMQ_DEFAULT_USER=supervision --from-literal=RABBITMQ_DEFAULT_PASS="$(random)"
exists supervision-amqp || create supervision-amqp \
  --from-literal=AMQP_URI="amqp://$(value rabbitmq-admin RABBITMQ_DEFAULT_USER):$(value rabbitmq-admin RABBITMQ_DEFAULT_PASS)@rabbitmq:5672/supervision_dev"
# AUTH_MODE=off in dev: the key is there for trying AUTH_MODE=jwt.
create supervision-jwt --from-literal=JWT_SECRET="$(random)$(random)"
# The key every replica seals List page tokens with.
create supervision-page-tokens --from-literal=PAGE_TOKEN_SECRET="$(random)$(random)"
# The key every gateway replica signs the public complaint form's tokens with.
create gateway-complaint-form --from-literal=COMPLAINT_FORM_SECRET="$(random)$(random)"
# The keys each service seals its evidence trails with (HMAC-SHA256, `id:base64key`): a 32-byte
# random key under a dated id; rotation appends a new id to TRAIL_KEYS and names it in
# TRAIL_ACTIVE_KEY_ID (docs/operations.md, Secrets).
for service in facilities mobile-enforcement; do
  create "$service-trail-keys" \
    --from-literal=TRAIL_KEYS="dev-$(date +%Y%m%d):$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
done

# One role and database per service: the role's password is a key of postgresql-roles (read by
# PostgreSQL's initdb script) and part of the service's DATABASE_URL.
if ! exists postgresql-roles; then
  roles=""
  for service in $SERVICES; do
    roles="$roles --from-literal=$service=$(random)"
  done
  # shellcheck disable=SC2086 # word splitting of the --from-literal list is intended
  create postgresql-roles $roles
fi
for service in $SERVICES; do
  exists "$(echo "$service" | tr _ -)-database" || create "$(echo "$service" | tr _ -)-database" \
    --from-literal=DATABASE_URL="postgresql://$service:$(value postgresql-roles "$service")@postgresql:5432/supervision_$service"
done

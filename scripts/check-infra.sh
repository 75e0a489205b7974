#!/usr/bin/env bash
# Offline checks of terraform/ and ansible/ (part of scripts/test.sh; ~1-3 minutes, the first run also
# installs the pinned tools into $TWEETLAKE_HOME/venv-infra):
#   terraform fmt -check; init -backend=false, validate and test on the provider-free module;
#   checkov over terraform/ with zero failed checks (it exits 0 on a syntax error, hence fmt first);
#   ansible-playbook --syntax-check; ansible-lint --offline --profile production;
#   tests/render.yml twice: every template for a 3-node cluster rendered and asserted on, then the
#   second run must change nothing; systemd-analyze verify on the rendered units (warnings fail).
set -euo pipefail
cd "$(dirname "$0")/.."
TWEETLAKE_HOME=${TWEETLAKE_HOME:-$HOME/.cache/tweetlake}
VENV=$TWEETLAKE_HOME/venv-infra
TOOLS=(checkov==3.3.30 ansible-core==2.19.14 ansible-lint==26.10.1)
log() { echo "[check-infra] $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

if [ ! -f "$VENV/.tools" ] || [ "$(cat "$VENV/.tools")" != "${TOOLS[*]}" ]; then
  log "installing ${TOOLS[*]} into $VENV"
  rm -rf "$VENV" && python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${TOOLS[@]}"
  echo "${TOOLS[*]}" > "$VENV/.tools"
fi
export PATH=$VENV/bin:$PATH

# --- Terraform -----------------------------------------------------------------------------------
command -v terraform >/dev/null || fail "terraform not found (1.9 or later is needed)"
# The registry is unreachable: no CLI config may point terraform at a mirror that is not there.
TF_CLI_CONFIG_FILE=$(mktemp) && export TF_CLI_CONFIG_FILE
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
log "terraform fmt"
terraform fmt -check -recursive -diff terraform || fail "terraform fmt: run terraform fmt -recursive terraform"
for module in terraform/modules/cluster_layout; do
  log "terraform validate + test: $module"
  (cd "$module" && rm -rf .terraform .terraform.lock.hcl \
    && terraform init -backend=false -input=false >/dev/null \
    && terraform validate -no-color && terraform test -no-color) || fail "$module"
  rm -rf "$module/.terraform" "$module/.terraform.lock.hcl"
done
log "checkov"
checkov -d terraform --framework terraform --skip-download --quiet --compact --output cli >"${TMPDIR:-/tmp}/checkov.out" 2>&1 \
  || { cat "${TMPDIR:-/tmp}/checkov.out"; fail "checkov found failing checks"; }
grep -E "Passed checks: [0-9]+, Failed checks: 0," "${TMPDIR:-/tmp}/checkov.out" >&2 \
  || { cat "${TMPDIR:-/tmp}/checkov.out"; fail "checkov"; }

# --- Ansible -------------------------------------------------------------------------------------
cd ansible
export ANSIBLE_CONFIG=$PWD/ansible.cfg ANSIBLE_NOCOLOR=1
log "ansible-playbook --syntax-check"
ansible-playbook --syntax-check site.yml tests/render.yml >/dev/null || fail "syntax check"
log "ansible-lint --offline --profile production"
ansible-lint --offline --profile production -q || fail "ansible-lint"

render=$(mktemp -d)
trap 'rm -rf "$render" "$TF_CLI_CONFIG_FILE"' EXIT
log "rendering the example cluster into $render"
ansible-playbook -i inventory/example.yml tests/render.yml -e render_dir="$render" --diff >"$render.1.log" \
  || { cat "$render.1.log"; fail "render and assert"; }
# Secrets never reach the output, --diff included.
if grep -E "sasl-kafka-secret|render-secret|render-metrics-token" "$render.1.log"; then
  fail "a secret was printed by the render"
fi
ansible-playbook -i inventory/example.yml tests/render.yml -e render_dir="$render" >"$render.2.log" \
  || { cat "$render.2.log"; fail "second render"; }
# Idempotence: every host's recap says changed=0 on the second run.
if grep -E "^\S+ +: ok=" "$render.2.log" | grep -vq "changed=0 "; then
  grep -A10 "PLAY RECAP" "$render.2.log"; fail "the second run changed something"
fi
rm -f "$render.1.log" "$render.2.log"

if command -v systemd-analyze >/dev/null; then
  log "systemd-analyze verify"
  checked=0
  for units in $(find "$render" -type d -path '*/etc/systemd/system'); do
    host=${units%etc/systemd/system}
    checked=$((checked + 1))
    # ExecStart paths must exist for verify; stand-ins where the binaries would be installed.
    for bin in opt/kafka/bin/kafka-server-start.sh opt/kafka/bin/kafka-server-stop.sh opt/tweetlake/bin/tweetlake; do
      mkdir -p "$host$(dirname "$bin")" && printf '#!/bin/sh\n' >"$host$bin" && chmod +x "$host$bin"
    done
    out=$(systemd-analyze verify "$units"/* 2>&1) || true
    [ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify $units"; }
  done
  # 3 nodes and the tweetlake host, again with TLS.
  [ "$checked" -eq 8 ] || fail "expected 8 rendered unit directories, verified $checked"
else
  log "systemd-analyze not found: unit verification skipped"
fi
log "ok"

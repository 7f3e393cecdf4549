#!/usr/bin/env bash
# Static checks of terraform/, since no terraform binary or AWS provider can be installed on the
# machines this project is built on:
#   1. formatting and syntax with hclfmt, built from Debian's HCL v2 sources;
#   2. checkov (PyPI) with --skip-download, every skip justified in place;
#   3. policy tests over the parsed HCL (checkov's bc-python-hcl2 + pytest), names included, and over the policy
#      templates of terraform/policies/ rendered, with parliament (PyPI's IAM policy linter).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DBADMIN_CACHE:-/var/cache/db-admin-report}
VENV=${DBADMIN_TERRAFORM_VENV:-$CACHE/venv-terraform}
REQUIREMENTS=$ROOT/terraform/requirements-check.txt
HCLFMT=$CACHE/bin/hclfmt
log() { printf '[terraform-check] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$HCLFMT" ]; then
  log "building hclfmt from Debian's golang-github-hashicorp-hcl-v2-dev"
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go golang-github-hashicorp-hcl-v2-dev >/dev/null
  as_root mkdir -p "$CACHE/bin"
  tmp=$(mktemp -d)
  GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$tmp/cache" go build -o "$tmp/hclfmt" github.com/hashicorp/hcl/v2/cmd/hclfmt
  as_root install -m 755 "$tmp/hclfmt" "$HCLFMT"
fi
# shellcheck source=scripts/pinned-venv.sh
. "$ROOT/scripts/pinned-venv.sh"
ensure_pinned_venv "$VENV" "$REQUIREMENTS" checkov

status=0
while IFS= read -r -d '' f; do
  if ! "$HCLFMT" "$f" | diff -u "$f" - >/dev/null; then
    log "not formatted: ${f#"$ROOT"/} (fix: $HCLFMT -w ${f#"$ROOT"/})"
    status=1
  fi
done < <(find "$ROOT/terraform" -name '*.tf' -not -path '*/.terraform/*' -print0)

"$VENV/bin/checkov" --directory "$ROOT/terraform" --framework terraform --skip-download --quiet --compact || status=1
"$VENV/bin/python" -m pytest -q "$ROOT/terraform/tests" || status=1
exit $status

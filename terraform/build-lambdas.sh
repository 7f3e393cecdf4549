#!/usr/bin/env bash
# Builds the three Lambda zips for arm64 (provided.al2023) where Terraform expects them:
# terraform/dist/{publisher,collector,reporter}.zip. Installs cargo-lambda (PyPI; it brings zig for
# cross-compiling) into a venv if missing. The collector zip also carries the RDS CA bundle when
# terraform/rds-global-bundle.pem exists (download it from AWS's documentation page once).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${DBADMIN_LAMBDA_VENV:-${DBADMIN_CACHE:-/var/cache/db-admin-report}/venv-cargo-lambda}
DIST="$ROOT/terraform/dist"
[ -x "$VENV/bin/cargo-lambda" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q cargo-lambda; }
rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
mkdir -p "$DIST"
cd "$ROOT"
for f in publisher collector reporter; do
  "$VENV/bin/cargo-lambda" lambda build --profile dist --arm64 -p "dbadmin-$f" --features lambda --bin "$f-lambda" --output-format zip
  tmp=$(mktemp -d)
  unzip -q "target/lambda/$f-lambda/bootstrap.zip" -d "$tmp"
  if [ "$f" = collector ] && [ -f terraform/rds-global-bundle.pem ]; then cp terraform/rds-global-bundle.pem "$tmp/"; fi
  (cd "$tmp" && zip -q -r "$DIST/$f.zip" .)
  rm -rf "$tmp"
  echo "$DIST/$f.zip"
done

# Sourced by scripts/aws-local.sh and terraform/check.sh.
#
# ensure_pinned_venv VENV REQUIREMENTS EXECUTABLE
#   The packages of REQUIREMENTS (a full `pip freeze`: every package pinned) in VENV, made afresh
#   whenever the file changes (pip never removes a package the file no longer names). VENV records
#   the file's SHA-256; VENV/bin/EXECUTABLE tells that an install finished. Every step returns on
#   failure itself: a caller's `|| die` turns `set -e` off inside the function.
ensure_pinned_venv() {
  local venv=$1 requirements=$2 executable=$3 want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/bin/$executable" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  printf '[venv] installing the pinned packages of %s into %s\n' "${requirements##*/}" "$venv" >&2
  # Only a venv this helper made (it has the stamp) is removed; another is installed into.
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if [ -f "$venv/.requirements.sha256" ]; then rm -rf "$venv" 2>/dev/null || $sudo rm -rf "$venv" || return 1; fi
  # The cache may be root's (made with sudo): the venv itself belongs to whoever runs this.
  mkdir -p "$venv" 2>/dev/null || $sudo install -d -o "$(id -u)" -g "$(id -g)" "$venv" || return 1
  # Debian's own python3 needs python3-venv for this; a pyenv or python.org build has it built in.
  if ! python3 -m venv "$venv" 2>/dev/null; then
    $sudo apt-get update -qq >/dev/null || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null \
      || return 1
    python3 -m venv "$venv" || return 1
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" || return 1
  echo "$want" >"$venv/.requirements.sha256"
}

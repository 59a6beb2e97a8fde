#!/usr/bin/env bash
# dudao developer entry point.
#   ./dev.sh serve   set up (venv, packages, database, demo data) and serve on 127.0.0.1
#   ./dev.sh test    set up (venv, dev packages, Chromium) and run the whole suite
#                    on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set
set -euo pipefail
cd "$(dirname "$0")"

VENV=${VENV:-.venv}
PY="$VENV/bin/python"

need_python() {
  # The first interpreter that actually runs and is 3.11+ (pyenv shims may exist but not run).
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  echo "需要 Python 3.11 或更新版本 / Python 3.11+ is required" >&2
  exit 1
}

ensure_venv() {  # $1: extras ("" or "dev")
  local extras=$1 stamp want
  [ -x "$PY" ] || "$(need_python)" -m venv "$VENV"
  stamp="$VENV/.dudao-installed"
  want="$(sha256sum pyproject.toml | cut -c1-16):${extras}"
  if [ ! -f "$stamp" ] || ! grep -qx "$want" "$stamp" && ! grep -qx "$(sha256sum pyproject.toml | cut -c1-16):dev" "$stamp"; then
    echo "== installing packages${extras:+ ($extras)}"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e ".${extras:+[$extras]}"
    echo "$want" > "$stamp"
  fi
}

apt_install() {  # Debian packages, as root or through sudo
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_chromium() {
  # Chromium drives the browser tests and prints the bureau's PDF reports; Noto CJK sets their Chinese.
  [ -x /usr/bin/chromium ] && [ -n "$(fc-list 'Noto Serif CJK SC' 2>/dev/null)" ] && return 0
  echo "== installing Debian's Chromium and the Noto CJK fonts"
  apt_install chromium fonts-noto-cjk
}

ensure_lighthouse() {
  # Lighthouse 11 from npm (pinned in tools/lighthouse/package-lock.json) for tests/test_lighthouse.py.
  local dir=tools/lighthouse
  if [ -x "$dir/node_modules/.bin/lighthouse" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "== installing Debian's Node.js and npm for the Lighthouse audit"
    apt_install nodejs npm
  fi
  echo "== installing Lighthouse (npm ci in $dir)"
  # A failure here fails the run: the audit must not be skipped silently.
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
}

cmd_serve() {
  ensure_venv ""
  export FLASK_APP=wsgi
  # Plain HTTP on this machine: cookies cannot be marked Secure here.
  export DUDAO_SESSION_COOKIE_SECURE=false DUDAO_REMEMBER_COOKIE_SECURE=false
  "$VENV/bin/flask" db upgrade
  "$VENV/bin/flask" demo load
  local port=${PORT:-5000}
  cat <<MSG

  督导随行已启动 / dudao is up:  http://127.0.0.1:${port}/
  演示账号 / demo accounts (密码 password: demo1234):
    admin                系统管理员 (all counties)
    helan_duxue1         责任督学 inspector, 贺兰县     (also xiji_, liaocheng_, xinganmeng_ …)
    helan_jyy1           教研员 researcher, 贺兰县
    helan_dds            督导室 reviewer, 贺兰县
    helan_school1        学校 school account, 贺兰县 (one school; also helan_school2)

MSG
  exec "$VENV/bin/flask" run --host 127.0.0.1 --port "$port" "$@"
}

cmd_test() {
  ensure_venv dev
  ensure_chromium
  ensure_lighthouse
  "$VENV/bin/ruff" check .
  # Two workers (pytest-xdist): browser tests wait on Chromium and the network as much as on the CPU.
  local workers=(-n "${TEST_WORKERS:-2}")
  echo "== tests on SQLite"
  TEST_DATABASE_URL="" "$PY" -m pytest "${workers[@]}" "$@"
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    echo "== tests on PostgreSQL ($TEST_DATABASE_URL)"
    # Browser tests check the phone and the pages, which are the same on any database: the PostgreSQL pass runs
    # the end-to-end ones marked both_databases (offline visit, school, 教研员, bureau, parking) and every other test.
    "$PY" -m pytest "${workers[@]}" -m "not browser or both_databases" "$@"
  fi
}

case "${1:-}" in
  serve) shift; cmd_serve "$@" ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: ./dev.sh serve | ./dev.sh test [pytest args]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs what statectl's tests and lab need on Debian 12 (bookworm):
# Incus from bookworm-backports, Debian's python3-jinja2 (the
# differential template test compares against it), and dnsmasq-base and
# iproute2 (the lab's network-namespace mode and the bridge networks tested
# there), haproxy (the load-balancer access tests), chromium (the watch
# status page's browser test) and git (watch --git). Idempotent.
set -euo pipefail

need=()
[ -x /usr/libexec/incus/incusd ] || need+=(incus)
command -v incus >/dev/null 2>&1 || need+=(incus)
/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1 || need+=(jinja2)
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need+=(iproute2)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v git >/dev/null 2>&1 || need+=(git)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: incus, python3-jinja2, dnsmasq-base, iproute2, haproxy, chromium, git and openssh-client already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
src=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  $SUDO tee "$src" >/dev/null <<'X'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q python3-jinja2
$SUDO apt-get install -y -q --no-install-recommends dnsmasq-base iproute2 haproxy chromium git openssh-client
$SUDO apt-get install -y -q -t bookworm-backports --no-install-recommends incus-base incus-client
echo "install-deps: installed $(incus --version 2>/dev/null || echo incus)"

#!/usr/bin/env bash
# Installs the Debian packages the tests need (the code-node sandbox, the browser tests),
# when they are missing; with package names as arguments, only those (`make run`: the
# sandbox's). Needs root (or sudo), and says so.
set -euo pipefail

if [ $# -gt 0 ]; then packages=("$@"); else packages=(bubblewrap libseccomp2 chromium); fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}${sudo:+ (with sudo: it may ask for your password)}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

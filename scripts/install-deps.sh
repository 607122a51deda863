#!/usr/bin/env bash
# Installs the Debian packages Sieve's build and tests use, only those missing.
set -euo pipefail
packages=(maven clang llvm libbpf-dev bpftool iproute2 iputils-ping netcat-openbsd iperf3 sockperf iptables python3 bc curl wrk nginx dnsmasq-base dnsutils clickhouse-server clickhouse-client nodejs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$java_home/bin/java" ]; then
  echo "install-deps: Java 25 not found at $java_home (set JAVA_HOME to a JDK 25)" >&2
  exit 1
fi

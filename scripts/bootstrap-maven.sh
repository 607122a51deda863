#!/usr/bin/env bash
# Installs Maven $2 into $1 with the system Maven (3.8 cannot build Quarkus).
# The artifact comes from the machine's configured Maven registry, so no
# download host is named here.
set -euo pipefail
dir=$1 version=$2
target="$dir/apache-maven-$version"
[ -x "$target/bin/mvn" ] && exit 0
command -v mvn >/dev/null || { echo "bootstrap-maven: the system 'mvn' is needed to fetch Maven $version (apt-get install maven)" >&2; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && mvn -B -q dependency:copy \
  -Dartifact="org.apache.maven:apache-maven:$version:tar.gz:bin" -DoutputDirectory="$tmp")
tar -xzf "$tmp/apache-maven-$version-bin.tar.gz" -C "$dir"
echo "bootstrap-maven: Maven $version in $target"

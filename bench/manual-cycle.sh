#!/usr/bin/env bash
# The field notes' manual method, one step after another: dig for the name, dig -x
# for every node, curl for every backend's status page.
# usage: manual-cycle.sh DNS_SERVER DNS_PORT NAME STATUS_URL...
set -u
server=$1
port=$2
name=$3
shift 3
ips=$(dig +short +tries=1 +time=2 -p "$port" @"$server" "$name" A)
for ip in $ips; do
  dig +short +tries=1 +time=2 -p "$port" @"$server" -x "$ip" > /dev/null
done
for url in "$@"; do
  curl -s --max-time 5 "$url?auto" > /dev/null
done

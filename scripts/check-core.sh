#!/usr/bin/env bash
# scripts/check-core.sh: the purity check of core/.  Fails when any object
# file of core/ references a wall-clock, random, socket or resolver symbol:
# the core may reach the world only through struct cs_env (core/env.h).
# Usage: scripts/check-core.sh OBJECT...
set -euo pipefail
forbidden='^(time|clock_gettime|clock|gettimeofday|ftime|times|timespec_get|rand|rand_r|random|srand|srandom|drand48|lrand48|mrand48|erand48|arc4random.*|getrandom|getentropy|socket|socketpair|connect|bind|listen|accept|accept4|send|sendto|sendmsg|recv|recvfrom|recvmsg|select|poll|epoll_.*|getaddrinfo|gethostbyname.*|getnameinfo|res_.*|__res_.*|ares_.*|inet_pton|inet_ntop|inet_aton|open|fopen|read|write|fread|fwrite|sleep|usleep|nanosleep|pthread_.*|fork|exit|abort)$'
status=0
count=0
for obj in "$@"; do
  count=$((count + 1))
  bad=$(nm -u "$obj" | awk '{print $NF}' | sed 's/@.*//' | grep -E "$forbidden" || true)
  if [ -n "$bad" ]; then
    echo "check-core: $obj references forbidden symbols: $(echo $bad | tr '\n' ' ')" >&2
    status=1
  fi
done
if [ "$count" -eq 0 ]; then
  echo "check-core: no object files given" >&2
  exit 1
fi
[ $status -eq 0 ] && echo "check-core: $count core object files reference no clock, random, socket, resolver or I/O symbol"
exit $status

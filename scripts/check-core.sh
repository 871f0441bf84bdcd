#!/usr/bin/env bash
# scripts/check-core.sh: the purity check of core/.  Fails when any object
# file of core/ references a wall-clock, random, socket, resolver, file,
# terminal or process symbol: the core may reach the world only through
# struct cs_env (core/env.h).  The objects must be compiled without link-time
# optimisation and with -fno-builtin (make check-core does): an LTO object
# holds no symbol table nm can read, and GCC turns some calls (printf with a
# constant string, abort) into builtins that nm may not show.
# Usage: scripts/check-core.sh OBJECT...
#        scripts/check-core.sh --self-test CC CFLAGS...   (a probe core file
#        calling each forbidden function must fail the check)
set -euo pipefail
forbidden='^(time|clock_gettime|clock|gettimeofday|ftime|times|timespec_get|rand|rand_r|random|srand|srandom|drand48|lrand48|mrand48|erand48|arc4random.*|getrandom|getentropy|socket|socketpair|connect|bind|listen|accept|accept4|send|sendto|sendmsg|recv|recvfrom|recvmsg|select|poll|epoll_.*|getaddrinfo|gethostbyname.*|getnameinfo|res_.*|__res_.*|ares_.*|inet_pton|inet_ntop|inet_aton|open|open64|openat|creat|close|unlink|fopen|fopen64|fdopen|freopen|fclose|fflush|read|write|pread|pwrite|fread|fwrite|printf|fprintf|vprintf|vfprintf|dprintf|vdprintf|puts|fputs|fputc|putc|putchar|_IO_putc|perror|getchar|getc|fgetc|fgets|gets|scanf|fscanf|vscanf|stdin|stdout|stderr|sleep|usleep|nanosleep|pthread_.*|fork|vfork|exec.*|system|popen|exit|_exit|_Exit|quick_exit|abort|raise|kill|signal|sigaction|getpid|getenv|secure_getenv|setenv|mmap|munmap|syslog|dlopen|__printf_chk|__fprintf_chk|__vfprintf_chk|__fread_chk|__read_chk)$'

check() {
  local status=0 count=0 obj bad
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
    return 1
  fi
  return $status
}

if [ "${1:-}" = --self-test ]; then
  shift
  cc=$1
  shift
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  calls=('abort();' 'exit(1);' 'printf("x\n");' 'fprintf(stderr, "x");' 'fwrite("x", 1, 1, stdout);'
         'puts("x");' '(void)time(0);' '(void)rand();' '(void)getenv("HOME");' 'fflush(stdout);')
  caught=0
  for i in "${!calls[@]}"; do
    printf '#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\nvoid probe_%d(void);\nvoid probe_%d(void) { %s }\n' \
      "$i" "$i" "${calls[$i]}" > "$dir/probe.c"
    "$cc" "$@" -c "$dir/probe.c" -o "$dir/probe.o"
    if check "$dir/probe.o" 2> /dev/null; then
      echo "check-core: self-test FAILED: a core file calling ${calls[$i]} passed the check" >&2
      exit 1
    fi
    caught=$((caught + 1))
  done
  echo "check-core: self-test: each of $caught probe files calling a forbidden function fails the check"
  exit 0
fi

if check "$@"; then
  echo "check-core: $# core object files reference no clock, random, socket, resolver, file, terminal or process symbol"
else
  exit 1
fi

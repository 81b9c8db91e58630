/* Counterpart of kuard's memory allocator (github.com/kubernetes-up-and-running/kuard, pkg/memory):
 * `memhog MIB` allocates and touches MIB mebibytes, then holds them until killed or SIGTERM. The
 * kuard stand-in image runs it from its /-/mem/alloc endpoint; a pod can also run it directly. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: memhog MIB\n");
    return 2;
  }
  long mib = strtol(argv[1], NULL, 10);
  if (mib <= 0) {
    fprintf(stderr, "memhog: MIB must be a positive number\n");
    return 2;
  }
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  for (long i = 1; i <= mib; i++) {
    char *p = malloc(1 << 20);
    if (p == NULL) {
      fprintf(stderr, "memhog: allocation failed after %ld MiB\n", i - 1);
      return 1;
    }
    memset(p, (int)(i & 0xff) | 1, 1 << 20);
    if (i % 64 == 0 || i == mib) fprintf(stderr, "memhog: %ld MiB allocated\n", i);
  }
  for (;;) pause();
}

/* Counterpart of upstream's build/pause/linux/pause.c: the sandbox's first process. Holds the pod's
 * namespaces open, reaps zombies (when the pod shares its PID namespace it is PID 1) and exits on
 * SIGINT/SIGTERM. Built with `gcc -static -Os` by hack/images/build.sh. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KUBELAB_PAUSE_VERSION "3.10-kubelab"

static void on_stop(int sig) {
  fprintf(stderr, "pause: shutting down on signal %d\n", sig);
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int install(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-v") == 0) {
      printf("pause %s\n", KUBELAB_PAUSE_VERSION);
      return 0;
    }
  }
  if (getpid() != 1) fprintf(stderr, "pause: warning: not running as PID 1\n");
  if (install(SIGINT, on_stop, 0) < 0 || install(SIGTERM, on_stop, 0) < 0 ||
      install(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}

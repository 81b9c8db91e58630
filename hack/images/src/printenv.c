/* Counterpart of GNU coreutils' printenv, for the images carrying busybox (Debian's busybox-static 1.35 has no
 * printenv applet; the seeds run `kubectl exec POD -- printenv NAME`):
 *   printenv [-0|--null] [NAME]...
 * With no NAME, every environment entry as NAME=value, one a line. With names, the value of each that is set, one
 * a line (a name holding '=' never matches). Exit status 0 when every NAME was found, 1 when one was not, 2 for a
 * bad option. -0 ends each output entry with NUL instead of a newline. */
#include <stdio.h>
#include <string.h>

extern char **environ;

static const char USAGE[] =
    "Usage: printenv [OPTION]... [VARIABLE]...\n"
    "Print the values of the specified environment VARIABLE(s).\n"
    "If no VARIABLE is specified, print name and value pairs for them all.\n"
    "\n"
    "  -0, --null     end each output line with NUL, not newline\n"
    "      --help     display this help and exit\n"
    "      --version  output version information and exit\n";

/* Whether arg is long option name or an abbreviation of it ("--nu" for "--null"), as getopt_long takes them. */
static int long_option(const char *arg, const char *name) {
  size_t n = strlen(arg);
  return n > 2 && strncmp(arg, name, n) == 0;
}

/* The value part of entry when entry is "NAME=value", else NULL. */
static const char *value_of(const char *entry, const char *name) {
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=' ? entry + n + 1 : NULL;
}

int main(int argc, char **argv) {
  char end = '\n';
  int first = 1;
  for (; first < argc; first++) {
    const char *arg = argv[first];
    if (strcmp(arg, "--") == 0) {
      first++;
      break;
    }
    if (arg[0] != '-' || arg[1] == '\0') break;
    if (long_option(arg, "--null")) {
      end = '\0';
    } else if (long_option(arg, "--help")) {
      fputs(USAGE, stdout);
      return 0;
    } else if (long_option(arg, "--version")) {
      puts("printenv (Kubelab hack/images) 1.0");
      return 0;
    } else if (arg[1] == '-') {
      fprintf(stderr, "printenv: unrecognized option '%s'\nTry 'printenv --help' for more information.\n", arg);
      return 2;
    } else {
      /* A cluster of short options: only -0 exists. */
      for (const char *o = arg + 1; *o; o++) {
        if (*o != '0') {
          fprintf(stderr, "printenv: invalid option -- '%c'\nTry 'printenv --help' for more information.\n", *o);
          return 2;
        }
        end = '\0';
      }
    }
  }

  if (first >= argc) {
    for (char **e = environ; *e; e++) printf("%s%c", *e, end);
    return fflush(stdout) == 0 ? 0 : 2;
  }
  int missing = 0;
  for (int i = first; i < argc; i++) {
    int found = 0;
    if (strchr(argv[i], '=') == NULL) {
      for (char **e = environ; *e; e++) {
        const char *value = value_of(*e, argv[i]);
        if (value) {
          printf("%s%c", value, end);
          found = 1;
        }
      }
    }
    if (!found) missing = 1;
  }
  if (fflush(stdout) != 0) return 2;
  return missing ? 1 : 0;
}

#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace taskdist {

void check_failed(const char* condition, const char* file, int line) {
  std::fflush(stdout);
  std::fprintf(stderr,
               "taskdist: internal error: CHECK(%s) failed at %s:%d; please report this with the "
               "command line\n",
               condition, file, line);
  std::abort();
}

}  // namespace taskdist

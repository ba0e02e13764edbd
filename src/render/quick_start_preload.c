/* The quick-start preload: taskdist puts this library in LD_PRELOAD for the povray it runs, so
 * that POV-Ray 3.7's front end stops waiting on its own polling timers.
 *
 * Measured with strace and an interposer on Debian's povray 3.7.0.10 (a 16x16 render: 0.77 s of
 * wall, 0.02 s of CPU): its message threads and main thread poll with timed condition-variable
 * waits of 50 ms (pthread_cond_timedwait on a CLOCK_MONOTONIC condition, boost::thread), and it
 * sleeps 10, 50 and 100 ms (nanosleep) at start-up, between parse and trace, and before exit.
 * Nearly every one of those waits ends on its timer, not on an event, so the wall time of a band
 * is mostly those timers.
 *
 * What it changes, and nothing else: in a process whose executable is named povray*, a wait
 * whose time left is between kShortestCut and kLongestCut (2 ms - 110 ms) in one of
 * pthread_cond_timedwait, pthread_cond_clockwait, nanosleep, clock_nanosleep (relative) and usleep
 * returns after kPoll (1 ms) instead: a timed condition wait as a timeout (the caller checks its
 * state again and waits again), a sleep as a full sleep. So each poll runs every 1 ms, never a
 * busy spin. Longer and shorter waits, waits without a timer, and every other process (a wrapper
 * script, a shell POV-Ray starts, `sleep`) are untouched: the library only forwards to glibc.
 *
 * TASKDIST_QUICK_START_PROOF, when set, names a file the library creates the first time it cuts a
 * wait: taskdist's check that the library loaded in this povray and found its waits. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
static const long long kShortestCut = 2000000LL; /* 2 ms */
static const long long kLongestCut = 110000000LL; /* 110 ms */
static const long long kPoll = 1000000LL;         /* 1 ms */

typedef int (*timedwait_fn)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
typedef int (*clockwait_fn)(pthread_cond_t*, pthread_mutex_t*, clockid_t,
                            const struct timespec*);
typedef int (*nanosleep_fn)(const struct timespec*, struct timespec*);
typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec*, struct timespec*);
typedef int (*usleep_fn)(useconds_t);

static timedwait_fn real_timedwait;
static clockwait_fn real_clockwait;
static nanosleep_fn real_nanosleep;
static clock_nanosleep_fn real_clock_nanosleep;
static usleep_fn real_usleep;
static int active;           /* this process is POV-Ray */
static const char* proof;    /* TASKDIST_QUICK_START_PROOF */
static int proof_written;

static void* next_symbol(const char* name, const char* version) {
  void* f = version != NULL ? dlvsym(RTLD_NEXT, name, version) : NULL;
  return f != NULL ? f : dlsym(RTLD_NEXT, name);
}

__attribute__((constructor)) static void quick_start_init(void) {
  real_timedwait = (timedwait_fn)next_symbol("pthread_cond_timedwait", "GLIBC_2.3.2");
  real_clockwait = (clockwait_fn)next_symbol("pthread_cond_clockwait", NULL);
  real_nanosleep = (nanosleep_fn)next_symbol("nanosleep", NULL);
  real_clock_nanosleep = (clock_nanosleep_fn)next_symbol("clock_nanosleep", NULL);
  real_usleep = (usleep_fn)next_symbol("usleep", NULL);
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  const char* base = strrchr(exe, '/');
  base = base != NULL ? base + 1 : exe;
  active = strncmp(base, "povray", 6) == 0;
  proof = getenv("TASKDIST_QUICK_START_PROOF");
}

static long long to_ns(const struct timespec* t) { return (long long)t->tv_sec * NS_PER_S + t->tv_nsec; }

static struct timespec from_ns(long long ns) {
  struct timespec t = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
  return t;
}

static int cuts(long long left_ns) {
  return active && left_ns >= kShortestCut && left_ns <= kLongestCut;
}

static void note_cut(void) {
  if (proof == NULL || __atomic_exchange_n(&proof_written, 1, __ATOMIC_RELAXED)) return;
  const int fd = open(proof, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
}

/* The time left until `deadline` on `clock`, or -1. */
static long long left_on(clockid_t clock, const struct timespec* deadline, long long* now_ns) {
  struct timespec now;
  if (clock_gettime(clock, &now) != 0) return -1;
  *now_ns = to_ns(&now);
  return to_ns(deadline) - *now_ns;
}

int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
                           const struct timespec* deadline) {
  long long now = 0;
  if (cuts(left_on(clock, deadline, &now))) {
    note_cut();
    const struct timespec soon = from_ns(now + kPoll);
    return real_clockwait(cond, mutex, clock, &soon);
  }
  return real_clockwait(cond, mutex, clock, deadline);
}

/* The condition's clock is not visible: a deadline within the cut range on the monotonic clock
 * is one (realtime deadlines are decades away from it), otherwise it may be a realtime one. */
int pthread_cond_timedwait(pthread_cond_t* cond, pthread_mutex_t* mutex,
                           const struct timespec* deadline) {
  long long now = 0;
  if (active) {
    if (cuts(left_on(CLOCK_MONOTONIC, deadline, &now)) ||
        cuts(left_on(CLOCK_REALTIME, deadline, &now))) {
      note_cut();
      const struct timespec soon = from_ns(now + kPoll);
      return real_timedwait(cond, mutex, &soon);
    }
  }
  return real_timedwait(cond, mutex, deadline);
}

int nanosleep(const struct timespec* duration, struct timespec* left) {
  if (duration != NULL && cuts(to_ns(duration))) {
    note_cut();
    const struct timespec poll = from_ns(kPoll);
    return real_nanosleep(&poll, NULL);
  }
  return real_nanosleep(duration, left);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec* duration,
                    struct timespec* left) {
  if (flags == 0 && duration != NULL && cuts(to_ns(duration))) {
    note_cut();
    const struct timespec poll = from_ns(kPoll);
    return real_clock_nanosleep(clock, 0, &poll, NULL);
  }
  return real_clock_nanosleep(clock, flags, duration, left);
}

int usleep(useconds_t us) {
  if (cuts((long long)us * 1000)) {
    note_cut();
    return real_usleep((useconds_t)(kPoll / 1000));
  }
  return real_usleep(us);
}

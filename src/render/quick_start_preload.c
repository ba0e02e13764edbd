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
 * returns after a short poll instead: a timed condition wait as a timeout (the caller checks its
 * state again and waits again), a sleep as a full sleep. Polls are 1 ms, backing off in a long
 * wait for nothing (kPollShare), never a busy spin. Longer and shorter waits, waits without a
 * timer, and every other process (a wrapper script, a shell POV-Ray starts, `sleep`) are
 * untouched: the library only forwards to glibc.
 *
 * TASKDIST_QUICK_START_PROOF, when set, names a file the library creates the first time it cuts a
 * wait: taskdist's check, on a node's first bands, that its povray loads the library and has the
 * waits it cuts. TASKDIST_QUICK_START_COUNT, when set, names a file that holds the number of
 * wakeups the library has added so far: polls that ended on their timer before POV-Ray's own
 * wait would have (bench/quick_start.sh). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
static const long long kShortestCut = 2000000LL; /* 2 ms */
static const long long kLongestCut = 110000000LL; /* 110 ms */
static const long long kPoll = 1000000LL;         /* 1 ms */
/* A thread polls every kPoll at first; once its polls have found nothing for a while, each poll is
 * 1/kPollShare of the time it has been polling (the streak), up to the wait POV-Ray asked for: a
 * long wait for nothing goes back to POV-Ray's own 50 ms polls instead of waking 1000 times a
 * second, while a change that comes soon after a step is still seen within a few ms.
 * - A thread that did not wait for more than kBusy (it parsed, filled the image buffer, wrote the
 *   image, or was not scheduled) starts a new phase for every thread of the process: all start a
 *   new streak at kPoll. Before it prints its banner, POV-Ray's main thread fills a full-size
 *   image buffer (blob.pov 1600x1200: 38 MB, ~0.1-0.2 s) while the message threads poll it; a
 *   one-row band of that size took 0.76 s of wall when they backed off to 50 ms by then (50 polls,
 *   then doubling, a reset only for the busy thread), 0.28-0.31 s when they kept 1 ms polls, and
 *   0.93 s without the preload.
 * - A wait that a signal ends changes nothing: POV-Ray's main thread is signalled hundreds of
 *   times a second while it traces (blob.pov 1600x1200: ~2100 times in 3 s), and starting over at
 *   1 ms on each would add a timer wakeup before most of them (counted with
 *   TASKDIST_QUICK_START_COUNT on that render: 2874 added wakeups, against 176 without). */
static const long long kPollShare = 16;
static const long long kBusy = 100000000LL;       /* 100 ms */

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
static __thread long long streak_start; /* CLOCK_MONOTONIC: this thread's first poll in the phase */
static __thread int poll_is_short;       /* the current poll is shorter than the wait asked */
static __thread long long last_poll_end; /* CLOCK_MONOTONIC, 0: this thread has not polled */
static __thread unsigned phase_seen;     /* the phase this thread's polls belong to */
static unsigned phase;                   /* the process's phase: kBusy without a wait ends one */
static long long process_start;          /* CLOCK_MONOTONIC, at load */
static int active;           /* this process is POV-Ray */
static const char* proof;    /* TASKDIST_QUICK_START_PROOF */
static int proof_written;
static int count_fd = -1;    /* TASKDIST_QUICK_START_COUNT: the wakeups added so far */
static unsigned long cuts_made;  /* extra wakeups, counted when count_fd is open */

static long long monotonic_ns(void);

static void* next_symbol(const char* name, const char* version) {
  void* f = version != NULL ? dlvsym(RTLD_NEXT, name, version) : NULL;
  return f != NULL ? f : dlsym(RTLD_NEXT, name);
}

/* glibc's functions, looked up on first use: another library's constructor may wait or sleep
 * before this one's has run. Threads that race here store the same values. */
static int resolved;
static void resolve(void) {
  if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE)) return;
  real_timedwait = (timedwait_fn)next_symbol("pthread_cond_timedwait", "GLIBC_2.3.2");
  real_clockwait = (clockwait_fn)next_symbol("pthread_cond_clockwait", NULL);
  real_nanosleep = (nanosleep_fn)next_symbol("nanosleep", NULL);
  real_clock_nanosleep = (clock_nanosleep_fn)next_symbol("clock_nanosleep", NULL);
  real_usleep = (usleep_fn)next_symbol("usleep", NULL);
  __atomic_store_n(&resolved, 1, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void quick_start_init(void) {
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  const char* base = strrchr(exe, '/');
  base = base != NULL ? base + 1 : exe;
  active = strncmp(base, "povray", 6) == 0;
  process_start = monotonic_ns();
  proof = getenv("TASKDIST_QUICK_START_PROOF");
  const char* count = getenv("TASKDIST_QUICK_START_COUNT");
  if (active && count != NULL) {
    count_fd = open(count, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
}

/* Saturated: a deadline centuries away is only "far" (and never cut). */
static long long to_ns(const struct timespec* t) {
  if (t->tv_sec > 9000000000LL) return 9000000000LL * NS_PER_S;
  if (t->tv_sec < -9000000000LL) return -9000000000LL * NS_PER_S;
  return (long long)t->tv_sec * NS_PER_S + t->tv_nsec;
}

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

static long long monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return to_ns(&now);
}

/* How long to wait instead of `left`: this thread's next poll, never more than `left`. */
static long long poll_for(long long left) {
  note_cut();
  const long long now = monotonic_ns();
  const long long since = last_poll_end != 0 ? last_poll_end : process_start;
  if (now - since > kBusy) __atomic_add_fetch(&phase, 1, __ATOMIC_RELAXED);
  const unsigned now_phase = __atomic_load_n(&phase, __ATOMIC_RELAXED);
  if (streak_start == 0 || phase_seen != now_phase) {
    streak_start = now;
    phase_seen = now_phase;
  }
  long long poll = (now - streak_start) / kPollShare;
  if (poll < kPoll) poll = kPoll;
  poll_is_short = poll < left;
  return poll_is_short ? poll : left;
}

/* For bench/quick_start.sh: a poll that ended on its timer before the wait POV-Ray asked for is
 * a wakeup POV-Ray would not have had. */
static void count_extra_wakeup(void) {
  char text[24];
  const int n = snprintf(text, sizeof text, "%lu\n",
                         __atomic_add_fetch(&cuts_made, 1, __ATOMIC_RELAXED));
  if (n > 0 && pwrite(count_fd, text, (size_t)n, 0) < 0) count_fd = -1;
}

/* After a poll: `on_timer` when it ran to its end (nothing woke it). */
static void after_poll(int on_timer) {
  last_poll_end = monotonic_ns();
  if (!on_timer) return;
  if (poll_is_short && count_fd >= 0) count_extra_wakeup();
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
  resolve();
  long long now = 0;
  const long long left = left_on(clock, deadline, &now);
  if (cuts(left)) {
    const struct timespec soon = from_ns(now + poll_for(left));
    const int result = real_clockwait(cond, mutex, clock, &soon);
    after_poll(result == ETIMEDOUT);
    return result;
  }
  return real_clockwait(cond, mutex, clock, deadline);
}

/* The condition's clock is not visible: a deadline within the cut range on the monotonic clock
 * is one (realtime deadlines are decades away from it), otherwise it may be a realtime one. */
int pthread_cond_timedwait(pthread_cond_t* cond, pthread_mutex_t* mutex,
                           const struct timespec* deadline) {
  resolve();
  long long now = 0, left = 0;
  if (active) {
    if (cuts(left = left_on(CLOCK_MONOTONIC, deadline, &now)) ||
        cuts(left = left_on(CLOCK_REALTIME, deadline, &now))) {
      const struct timespec soon = from_ns(now + poll_for(left));
      const int result = real_timedwait(cond, mutex, &soon);
      after_poll(result == ETIMEDOUT);
      return result;
    }
  }
  return real_timedwait(cond, mutex, deadline);
}

/* A sleep interrupted by a signal (`interrupted`) leaves in `left` what remains of the sleep
 * asked for, as the caller's own would: the asked-for time less what was slept. */
static void sleep_left(const struct timespec* duration, long long poll, const struct timespec* rem,
                       int interrupted, struct timespec* left) {
  if (!interrupted || left == NULL) return;
  long long remaining = to_ns(duration) - (poll - to_ns(rem));
  *left = from_ns(remaining > 0 ? remaining : 0);
}

int nanosleep(const struct timespec* duration, struct timespec* left) {
  resolve();
  if (duration != NULL && cuts(to_ns(duration))) {
    const long long poll_ns = poll_for(to_ns(duration));
    const struct timespec poll = from_ns(poll_ns);
    struct timespec rem = {0, 0};
    const int result = real_nanosleep(&poll, &rem);
    const int interrupted = result != 0 && errno == EINTR;
    sleep_left(duration, poll_ns, &rem, interrupted, left);
    after_poll(!interrupted);
    return result;
  }
  return real_nanosleep(duration, left);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec* duration,
                    struct timespec* left) {
  resolve();
  if (flags == 0 && duration != NULL && cuts(to_ns(duration))) {
    const long long poll_ns = poll_for(to_ns(duration));
    const struct timespec poll = from_ns(poll_ns);
    struct timespec rem = {0, 0};
    const int result = real_clock_nanosleep(clock, 0, &poll, &rem);
    sleep_left(duration, poll_ns, &rem, result == EINTR, left);
    after_poll(result != EINTR);
    return result;
  }
  return real_clock_nanosleep(clock, flags, duration, left);
}

int usleep(useconds_t us) {
  resolve();
  if (cuts((long long)us * 1000)) {
    const int result = real_usleep((useconds_t)(poll_for((long long)us * 1000) / 1000));
    after_poll(result == 0);
    return result;
  }
  return real_usleep(us);
}

/* The CPU a thread spends on one timer wakeup: 5000 condition waits of 1 ms that time out, as
 * the quick start's polls do (bench/quick_start.sh part 4). Prints microseconds per wakeup. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
int main(void) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; pthread_cond_t c; pthread_condattr_t a;
  pthread_condattr_init(&a); pthread_condattr_setclock(&a, CLOCK_MONOTONIC); pthread_cond_init(&c, &a);
  const int n = 5000; struct timespec t; pthread_mutex_lock(&m);
  for (int i = 0; i < n; ++i) { clock_gettime(CLOCK_MONOTONIC, &t); t.tv_nsec += 1000000; if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; } pthread_cond_timedwait(&c, &m, &t); }
  struct rusage u; getrusage(RUSAGE_SELF, &u);
  double cpu = u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
  printf("%.1f\n", cpu / n * 1e6);
  return 0;
}

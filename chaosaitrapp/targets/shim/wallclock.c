/* wallclock: an LD_PRELOAD library that moves a process's wall clock, and nothing else.
 *
 * CLOCK_REALTIME (and its coarse variant), gettimeofday() and time() read the real time plus the offset
 * (signed seconds, "+0", "-300", "+3600") held in the file $AITRAPP_WALL_CLOCK_FILE, re-read at most every
 * 20 ms of monotonic time, so a write lands within 20 ms. An offset followed by a rate ("+0 x0.25") makes
 * the wall clock run at that rate from when the file is read with it (drift). CLOCK_MONOTONIC, CLOCK_BOOTTIME,
 * sleeps and timed waits are left to the C library untouched: what an NTP step or a VM's wall-clock correction
 * does.
 * (libfaketime 0.9.10/3.0.1 with DONT_FAKE_MONOTONIC still shifts the deadlines of timed waits on monotonic
 * condition variables by the offset: after a step back of 300 s, CPython's GIL hand-over waits of 5 ms
 * became 300 s waits and the trader's API stalled for seconds. Measured by chaosaitrapp's clock drill.)
 * Built by chaosaitrapp.targets.wallclock with the system C compiler.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REREAD_NS 20000000LL

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
static clock_gettime_fn real_clock_gettime;
static const char *clock_file;
static volatile int64_t offset_ns;
static volatile double rate = 1.0;       /* the wall clock's rate from drift_since_ns on */
static volatile int64_t drift_since_ns;  /* monotonic time the current setting was first read */
static volatile int64_t last_read_ns = INT64_MIN / 2;
static pthread_mutex_t reading = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void wallclock_init(void) {
    real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    clock_file = getenv("AITRAPP_WALL_CLOCK_FILE");
}

static int64_t monotonic_ns(void) {
    struct timespec t;
    real_clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void reread(void) {
    int64_t now = monotonic_ns();
    if (now - last_read_ns < REREAD_NS || pthread_mutex_trylock(&reading) != 0)
        return; /* read lately, or another thread reads it now: the offset we have stands */
    last_read_ns = now;
    int fd = open(clock_file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char text[64];
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        if (n > 0) {
            text[n] = 0;
            char *end;
            double seconds = strtod(text, &end);
            if (end != text) {
                double new_rate = 1.0;
                char *x = end;
                while (*x == ' ' || *x == '\t')
                    x++;
                if (*x == 'x') {
                    char *rate_end;
                    double parsed = strtod(x + 1, &rate_end);
                    if (rate_end != x + 1 && parsed > 0)
                        new_rate = parsed;
                }
                int64_t new_offset = (int64_t)(seconds * 1e9);
                if (new_offset != offset_ns || new_rate != rate) {
                    drift_since_ns = now;
                    rate = new_rate;
                    offset_ns = new_offset;
                }
            }
        }
    } /* a file that is gone or garbled leaves the last offset */
    pthread_mutex_unlock(&reading);
}

static void shift(struct timespec *ts) {
    int64_t total = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + offset_ns;
    if (rate != 1.0)
        total += (int64_t)((rate - 1.0) * (double)(monotonic_ns() - drift_since_ns));
    ts->tv_sec = (time_t)(total / 1000000000LL);
    ts->tv_nsec = (long)(total % 1000000000LL);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000L;
        ts->tv_sec -= 1;
    }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!real_clock_gettime)
        wallclock_init();
    int result = real_clock_gettime(id, ts);
    if (result == 0 && clock_file && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        reread();
        shift(ts);
    }
    return result;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    struct timespec ts;
    int result = clock_gettime(CLOCK_REALTIME, &ts);
    if (result == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return result;
}

time_t time(time_t *out) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (time_t)-1;
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}

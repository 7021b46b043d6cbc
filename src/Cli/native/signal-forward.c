/*
 * Signal forwarding of a foreground `run` or `exec` (SignalForwarder): an async-signal-safe handler that sends the
 * signal on to the container's process through its pidfd, as runc forwards. Installed with sigaction(2) for the
 * forwarded signals and removed (the previous dispositions restored) when the process has exited.
 *
 * Why in C: .NET's PosixSignalRegistration starts a signal-handling thread and a pipe and dispatches each signal to
 * managed code; that cost ≈0.1 ms and one more thread per `run` (benchmarks/README.md). This handler runs on whatever
 * thread the kernel picks, makes one system call and restores errno; it never touches managed state, so it is safe at
 * any moment, a clone included.
 *
 * One forwarder per process at a time (SignalForwarder enforces it). Built by ocirun.csproj and linked into ocirun.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FORWARDED 32

static volatile sig_atomic_t target_pidfd = -1;
static int forwarded[MAX_FORWARDED];
static struct sigaction previous[MAX_FORWARDED];
static int forwarded_count;

static void forward(int sig)
{
    int saved = errno;
    int fd = target_pidfd;
    if (fd >= 0) syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
    errno = saved;
}

/* Forwards `signals` to `pidfd` from now on. 0, or -errno (nothing installed then). */
int ocirun_signal_forward_start(int pidfd, const int *signals, int count)
{
    if (count < 0 || count > MAX_FORWARDED || forwarded_count != 0) return -EINVAL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    target_pidfd = pidfd;
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &sa, &previous[i]) != 0) {
            int e = errno;
            while (i-- > 0) sigaction(signals[i], &previous[i], NULL);
            target_pidfd = -1;
            return -e;
        }
        forwarded[i] = signals[i];
    }
    forwarded_count = count;
    return 0;
}

/* Restores the dispositions replaced by ocirun_signal_forward_start. */
void ocirun_signal_forward_stop(void)
{
    for (int i = 0; i < forwarded_count; i++) sigaction(forwarded[i], &previous[i], NULL);
    forwarded_count = 0;
    target_pidfd = -1;
}

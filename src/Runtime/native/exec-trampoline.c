/*
 * ocirun's exec trampoline (docs/process-model.md, "The exec trampoline").
 *
 * On its direct paths (create without `ocirun init`, exec) the container's process starts as a one-thread copy of the
 * runtime, whose /proc/self/exe is the host's ocirun binary. Were it to wait for `start` as that copy, or execve the
 * container's program itself, a container process could reach the host binary through /proc/PID/exe (with
 * CAP_SYS_PTRACE over a created init in a shared pid namespace) or run it inside the container through an interpreter
 * named /proc/self/exe ("#!/proc/self/exe", an ELF PT_INTERP), and write it once it can (CVE-2019-5736). So the copy
 * execs this program from a sealed memfd as soon as the container is built: from then on /proc/self/exe is that
 * memfd, which nobody can write. This program waits for `start` on the exec fifo, loads the seccomp filter when
 * no_new_privs allows it this late, and execs the container's program.
 *
 * argv: NAME PATH DIRFD FIFOFD SECCOMPFD ARGV0 [ARGS...]
 *   DIRFD FIFOFD: an O_PATH fd of the host's /proc/self/fd and the exec fifo's fd number in it ("-": no wait, exec)
 *   DIRFD "-", FIFOFD N (exec): N is the runtime's sync socket, held open until execve (made close-on-exec first of
 *                 all), so that `exec` returns once the container's program runs, as runc's does
 *   SECCOMPFD:    an fd holding u32 flags, u32 length, struct sock_filter[length / 8] ("-": none)
 * then execve(PATH, [ARGV0, ARGS...], envp). Until then SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM and
 * SIGTERM end it with status 128 + signal (as ocirun init). A failure is reported as "ocirun: …" on stderr with
 * status 1; a failed execve as runc reports it: "exec PATH: ERROR", status 1. Static, no libc.
 */
#if defined(__x86_64__)
#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_fcntl 72
#define SYS_rt_sigaction 13
#define SYS_execve 59
#define SYS_prctl 157
#define SYS_exit_group 231
#define SYS_openat 257
#define SYS_seccomp 317
__asm__(".text\n.global _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call trampoline\n  hlt\n");

static long sys4(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
#elif defined(__aarch64__)
#define SYS_read 63
#define SYS_write 64
#define SYS_close 57
#define SYS_fcntl 25
#define SYS_rt_sigaction 134
#define SYS_execve 221
#define SYS_prctl 167
#define SYS_exit_group 94
#define SYS_openat 56
#define SYS_seccomp 277
__asm__(".text\n.global _start\n_start:\n  mov x0, sp\n  bl trampoline\n  brk #0\n");

static long sys4(long n, long a, long b, long c, long d)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#else
#error "exec-trampoline: x86_64 and aarch64 only"
#endif

#define PR_SET_DUMPABLE 4
#define F_SETFD 2
#define FD_CLOEXEC 1
#define O_WRONLY 01
#define O_CLOEXEC 02000000
#define SA_RESTORER 0x04000000
#define SECCOMP_SET_MODE_FILTER 1

static void put(const char *s)
{
    long n = 0;
    while (s[n]) n++;
    sys4(SYS_write, 2, (long)s, n, 0);
}

/* strerror for what the calls below can fail with. */
static const char *message(long e)
{
    switch (e) {
    case 1: return "operation not permitted";
    case 2: return "no such file or directory";
    case 4: return "interrupted system call";
    case 5: return "input/output error";
    case 6: return "no such device or address";
    case 7: return "argument list too long";
    case 8: return "exec format error";
    case 9: return "bad file descriptor";
    case 12: return "cannot allocate memory";
    case 13: return "permission denied";
    case 14: return "bad address";
    case 20: return "not a directory";
    case 21: return "is a directory";
    case 22: return "invalid argument";
    case 26: return "text file busy";
    case 38: return "function not implemented";
    case 40: return "too many levels of symbolic links";
    default: return "error";
    }
}

static __attribute__((noreturn)) void fail(const char *what, const char *path, long error, int status)
{
    if (path == 0) put("ocirun: ");
    put(what);
    if (path) put(path);
    put(": ");
    put(message(-error));
    put("\n");
    for (;;) sys4(SYS_exit_group, status, 0, 0, 0);
}

static long number(const char *s)
{
    long n = 0;
    if (s[0] == '-') return -1;
    while (*s >= '0' && *s <= '9') n = n * 10 + (*s++ - '0');
    return n;
}

/* Until execve: the terminating signals end the process (PID 1 of its pid namespace ignores those it does not handle). */
static void terminate(int sig)
{
    for (;;) sys4(SYS_exit_group, 128 + sig, 0, 0, 0);
}

static long readall(long fd, char *buf, long n)
{
    long done = 0;
    while (done < n) {
        long r = sys4(SYS_read, fd, (long)(buf + done), n - done, 0);
        if (r <= 0) return r < 0 ? r : -5;
        done += r;
    }
    return done;
}

static char filter[4096 * 8];

__attribute__((used, noreturn)) void trampoline(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    if (argc < 6) fail("exec trampoline", 0, -22, 1);
    /* CVE-2016-9962: nobody of the container may ptrace this process or open its fds (the host's /proc among them). */
    sys4(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0);
    long dirfd = number(argv[2]), seccompfd = number(argv[4]);
    /* exec's sync socket: open until execve (or exit), never in the container's program; before seccomp may deny fcntl. */
    if (dirfd < 0 && number(argv[3]) >= 0) sys4(SYS_fcntl, number(argv[3]), F_SETFD, FD_CLOEXEC, 0);
    if (dirfd >= 0) {
        static const int signals[] = {1, 2, 3, 10, 12, 14, 15};
        struct { void (*handler)(int); unsigned long flags; void (*restorer)(int); unsigned long mask; } action =
            { terminate, SA_RESTORER, terminate, 0 }; /* the handler never returns: no restorer is ever reached */
        for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) sys4(SYS_rt_sigaction, signals[i], (long)&action, 0, 8);
        /* Blocks until `start` opens the fifo for reading; the write end stays open (close-on-exec) until execve. */
        long fifo = sys4(SYS_openat, dirfd, (long)argv[3], O_WRONLY | O_CLOEXEC, 0);
        if (fifo < 0) fail("open exec fifo", 0, fifo, 1);
        sys4(SYS_write, fifo, (long)"0", 1, 0);
        sys4(SYS_close, dirfd, 0, 0, 0);
        sys4(SYS_close, number(argv[3]), 0, 0, 0);
        struct { void (*handler)(int); unsigned long flags; void (*restorer)(int); unsigned long mask; } dfl = { 0, 0, 0, 0 };
        for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) sys4(SYS_rt_sigaction, signals[i], (long)&dfl, 0, 8);
    }
    if (seccompfd >= 0) {
        unsigned header[2];
        long r = readall(seccompfd, (char *)header, sizeof header);
        if (r >= 0 && header[1] <= sizeof filter) r = readall(seccompfd, filter, header[1]);
        else if (r >= 0) r = -7;
        sys4(SYS_close, seccompfd, 0, 0, 0);
        if (r < 0) fail("read the seccomp filter", 0, r, 1);
        struct { unsigned short len; void *filter; } prog = { (unsigned short)(header[1] / 8), filter };
        r = sys4(SYS_seccomp, SECCOMP_SET_MODE_FILTER, header[0], (long)&prog, 0);
        if (r < 0) fail("load the seccomp filter", 0, r, 1);
    }
    long r = sys4(SYS_execve, (long)argv[1], (long)(argv + 5), (long)envp, 0);
    fail("exec ", argv[1], r, 1);
}

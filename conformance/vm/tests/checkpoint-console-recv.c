/* checkpoint-console-recv SOCKET OUTFILE: the console socket of the VM checkpoint tests (the guest has no python).
 * Listens on SOCKET (AF_UNIX), takes the first fd a runtime sends with SCM_RIGHTS (the pty master of
 * process.terminal) and copies what the container writes to OUTFILE until the terminal hangs up. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s SOCKET OUTFILE\n", argv[0]); return 2; }
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    unlink(argv[1]);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) { perror("bind/listen"); return 1; }
    int c = accept(s, NULL, NULL);
    if (c < 0) { perror("accept"); return 1; }
    char data[256], control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { data, sizeof data };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    if (recvmsg(c, &m, 0) < 0) { perror("recvmsg"); return 1; }
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (!h || h->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd received\n"); return 1; }
    int master;
    memcpy(&master, CMSG_DATA(h), sizeof master);
    close(c);
    close(s);
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) { perror("open"); return 1; }
    char buf[4096];
    for (;;) {
        ssize_t n = read(master, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0; /* EIO: the last slave fd closed */
        if (write(out, buf, (size_t)n) != n) return 1;
    }
}

#include "procs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

enum { MAX_PIDS = 32 };
static pid_t pids[MAX_PIDS];

void fl_test_remember(pid_t pid)
{
    for (int i = 0; i < MAX_PIDS; i++)
        if (pids[i] == 0) {
            pids[i] = pid;
            return;
        }
}

void fl_test_forget(pid_t pid)
{
    for (int i = 0; i < MAX_PIDS; i++)
        if (pids[i] == pid)
            pids[i] = 0;
}

void fl_test_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    for (int i = 0; i < MAX_PIDS; i++)
        if (pids[i] == pid) {
            pids[i] = 0;
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
}

void fl_test_kill_all(void)
{
    for (int i = 0; i < MAX_PIDS; i++)
        fl_test_kill(pids[i]);
}

void fl_test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int fl_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int fl_test_redis_answers(int port)
{
    struct timeval tv = {0, 300000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisReply *rep = redisCommand(c, "PING");
        ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
        if (rep)
            freeReplyObject(rep);
    }
    if (c)
        redisFree(c);
    return ok;
}

pid_t fl_test_redis_spawn(int port, const char *const *args)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        const char *argv[42] = {"redis-server"};
        for (int i = 0; args[i] && i < 40; i++)
            argv[i + 1] = args[i];
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    fl_test_remember(pid);
    for (int i = 0; i < 250; i++) { /* 250 x 20ms = 5s */
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fl_test_forget(pid);
            return -1;
        }
        if (fl_test_redis_answers(port))
            return pid;
        fl_test_sleep_ms(20);
    }
    fl_test_kill(pid);
    return -1;
}

int fl_test_chdir_source(void)
{
    const char *src = getenv("FL_SOURCE_DIR");
    if (src && chdir(src) != 0) {
        fprintf(stderr, "cannot chdir to FL_SOURCE_DIR %s\n", src);
        return 1;
    }
    return 0;
}

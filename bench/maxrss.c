/*
 * maxrss.c: the peak RSS of one process, for bench/run on machines without
 * GNU time.
 *
 *   maxrss PROGRAM [ARGS...]
 *
 * Runs PROGRAM, waits for it with wait4 and prints "@@RSS <KiB>" (its
 * ru_maxrss) on stderr; exits with PROGRAM's status. Why a C program: Linux
 * carries a process's RSS high-water mark across exec, so a child forked
 * from Python reports at least the Python parent's resident size (~35 MiB,
 * more after numpy or torch). Forked from this small program, the floor is
 * ~1 MiB, as with GNU time's %M.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("maxrss: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("maxrss: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("maxrss: wait4");
        return 2;
    }
    fprintf(stderr, "@@RSS %ld\n", ru.ru_maxrss);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

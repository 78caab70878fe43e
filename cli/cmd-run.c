/*
 * vfio-apple run: build QEMU's command line for a passthrough guest and
 * run it (or --print it), starting the simulator first with --sim.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../client/vfio-apple-client.h"
#include "cmdline.h"
#include "commands.h"
#include "devinfo.h"
#include "progress.h"
#include "run-opts.h"

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

static pid_t spawn(char **argv, const char *log)
{
    pid_t pid = fork();

    if (pid)
        return pid;
    cli_host_child_setup();
    if (log) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        if (null >= 0)
            dup2(null, STDIN_FILENO);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "vfio-apple run: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* The simulator answers on its socket (10 s), or it exited. */
static int wait_sim(pid_t pid, const struct cli_device_ref *ref, const char *log,
                    char *err, size_t errlen)
{
    for (int i = 0; i < 200; i++) {
        struct vfa_client *c;
        char e[256];
        int st;

        if (waitpid(pid, &st, WNOHANG) == pid) {
            snprintf(err, errlen, "vfio-apple-sim exited (status %d) before serving %s; its "
                     "log: %s", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                     ref->target, log);
            return -ECHILD;
        }
        if (!vfa_client_connect(ref->target, &c, e, sizeof(e))) {
            vfa_client_disconnect(c);
            return 0;
        }
        usleep(50000);
    }
    snprintf(err, errlen, "vfio-apple-sim did not serve %s within 10 s; its log: %s",
             ref->target, log);
    return -ETIMEDOUT;
}

static void stop(pid_t pid)
{
    int st;

    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

/* Start the simulator for --sim; its pid, or -1 with err. */
static pid_t start_sim(const struct cli_run_opts *o, const struct cli_device_ref *ref,
                       struct strv *simv, char *log, size_t loglen, char *err, size_t errlen)
{
    char sim[1024];
    struct vfa_client *c;
    char e[256];
    pid_t pid;

    if (!vfa_client_connect(ref->target, &c, e, sizeof(e))) {
        vfa_client_disconnect(c);
        snprintf(err, errlen, "a simulator already serves %s on %s: run without --sim to use "
                 "it, or give another name", ref->name, ref->target);
        return -1;
    }
    cli_host_helper("vfio-apple-sim", sim, sizeof(sim));
    cli_build_sim(sim, ref->target, o, simv);
    snprintf(log, loglen, "%.*s.log", (int)(strlen(ref->target) - 5), ref->target);
    cli_progress_step("starting %s (log: %s)", sim, log);
    pid = spawn(simv->v, log);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (wait_sim(pid, ref, log, err, errlen)) {
        stop(pid);
        return -1;
    }
    cli_progress_done();
    return pid;
}

static int run_qemu(char **argv, const struct cli_device_ref *ref, const char *qmp)
{
    struct sigaction sa = { .sa_handler = forward };
    int st;
    pid_t pid;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pid = spawn(argv, NULL);
    if (pid < 0) {
        fprintf(stderr, "vfio-apple run: fork: %s\n", strerror(errno));
        return 1;
    }
    child_pid = pid;
    fprintf(stderr, "vfio-apple: QEMU pid %d; `vfio-apple status %s` shows the device "
            "(QMP %s)\n", (int)pid, ref->name, qmp);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    child_pid = 0;
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "vfio-apple run: QEMU died of signal %d\n", WTERMSIG(st));
        return 128 + WTERMSIG(st);
    }
    if (WEXITSTATUS(st))
        fprintf(stderr, "vfio-apple run: QEMU exited with status %d\n", WEXITSTATUS(st));
    return WEXITSTATUS(st);
}

int cli_cmd_run(int argc, char **argv)
{
    struct cli_run_opts o;
    struct cli_device_ref ref;
    struct cli_devinfo di;
    struct cli_dma_plan plan;
    struct cli_target t;
    struct strv simv, qv;
    const char *qemu, *qmp;
    char err[1024], log[1100] = "";
    pid_t sim = -1;
    int r, rc = 1;

    r = cli_run_parse(argc, argv, &o, err, sizeof(err));
    if (r == 1) {
        fputs(cli_run_usage, stdout);
        return 0;
    }
    if (r) {
        fprintf(stderr, "vfio-apple %s\n", err);
        return 2;
    }
    strv_init(&simv);
    strv_init(&qv);
    qemu = o.qemu ? o.qemu : getenv("VFIO_APPLE_QEMU");
    if (!qemu || !*qemu)
        qemu = "qemu-system-aarch64";
    if (o.sim) {
        if (cli_host_sim_ref(o.device, &ref, err, sizeof(err)) ||
            (sim = start_sim(&o, &ref, &simv, log, sizeof(log), err, sizeof(err))) < 0) {
            fprintf(stderr, "vfio-apple run: %s\n", err);
            goto out;
        }
    } else if (cli_host_resolve(o.device, &ref, err, sizeof(err))) {
        fprintf(stderr, "vfio-apple run: %s\n", err);
        goto out;
    }
    cli_devinfo_gather(&ref, &di);
    if (di.err) {
        fprintf(stderr, "vfio-apple run: %s: %s\n", ref.name, di.errmsg);
        goto out;
    }
    if (di.session_open) {
        fprintf(stderr, "vfio-apple run: %s is in use: a session is open%s%s%s%s; stop that "
                "client (a VM?) first\n", ref.name, di.owner_pid ? " (pid " : "",
                di.owner_pid ? (snprintf(err, sizeof(err), "%d", di.owner_pid), err) : "",
                di.owner_name[0] ? " " : "", di.owner_pid ? di.owner_name : "");
        goto out;
    }
    if (cli_plan_dma(o.mode, o.mem, CLI_VIRT_RAM_BASE, di.id.dma_budget_bytes, &plan, err,
                     sizeof(err))) {
        fprintf(stderr, "vfio-apple run: %s\n", err);
        goto out;
    }
    fprintf(stderr, "vfio-apple: %s mode%s: %s\n", cli_mode_name(plan.mode),
            o.mode == CLI_MODE_AUTO ? " (auto)" : "", plan.why);
    qmp = o.qmp ? o.qmp : ref.qmp;
    cli_host_target(&ref, &t);
    r = cli_build_qemu(&o, &plan, &t, cli_host_profile(), qemu, qmp, &qv, err, sizeof(err));
    if (r) {
        fprintf(stderr, "vfio-apple run: %s\n", err);
        goto out;
    }
    if (o.print) {
        char *s;

        if (sim > 0) {
            s = strv_shell_join(&simv);
            printf("%s &\n", s ? s : "");
            free(s);
        }
        s = strv_shell_join(&qv);
        printf("%s\n", s ? s : "");
        free(s);
        rc = 0;
        goto out;
    }
    unlink(qmp);        /* a dead QEMU's; a live one holds the device (checked above) */
    rc = run_qemu(qv.v, &ref, qmp);
    unlink(qmp);
out:
    if (sim > 0) {
        stop(sim);
        unlink(ref.target);
    }
    strv_free(&simv);
    strv_free(&qv);
    return rc;
}

/*
 * sieve's native client: hands the command line to the warm CLI daemon (dev.sieve.cli.daemon.CliDaemon) over a
 * per-user unix socket and copies its stdout/stderr frames to its own, exiting with the daemon's exit code; a JVM
 * start costs ~0.25 s, this ~1 ms. No daemon answering (or one of another build): the command runs in a fresh
 * JVM (bin/sieve with SIEVE_CLI_DAEMON=0) while a daemon is started in the background for the next one.
 * Wire format: dev.sieve.cli.daemon.Frames. Built by `make build` into cli/target/sieve-client.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char target_dir[PATH_MAX]; /* cli/target, where this binary and the jars live */
static char launcher[PATH_MAX];   /* bin/sieve */
static volatile sig_atomic_t sock_fd = -1;

/* ---- a growable buffer for the request ---- */
struct buf { char *p; size_t n, cap; };

static void put(struct buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { perror("sieve"); exit(1); }
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put_u32(struct buf *b, uint32_t v) {
    unsigned char c[4] = {v >> 24, v >> 16, v >> 8, v};
    put(b, c, 4);
}
static void put_str(struct buf *b, const char *s) {
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    put(b, s, n);
}

/* ---- the JVM path ---- */
static void exec_jvm(char **argv) {
    setenv("SIEVE_CLI_DAEMON", "0", 1);
    argv[0] = launcher;
    execv(launcher, argv);
    fprintf(stderr, "sieve: cannot run %s: %s\n", launcher, strerror(errno));
    exit(1);
}

/* Environment variables the CLI reads (its options' ${env:...} defaults, TZ, colours): the rest stays here. */
static int forwarded(const char *e) {
    static const char *prefixes[] = {"SIEVE_", "HUBBLE_", NULL};
    static const char *names[] = {"NO_COLOR", "TERM", "COLUMNS", "LINES", "TZ", "LANG", "LC_ALL", "LC_CTYPE", "HOME",
                                  "CLICOLOR", "CLICOLOR_FORCE", "XDG_RUNTIME_DIR", NULL};
    for (const char **p = prefixes; *p; p++)
        if (strncmp(e, *p, strlen(*p)) == 0) return 1;
    for (const char **n = names; *n; n++) {
        size_t l = strlen(*n);
        if (strncmp(e, *n, l) == 0 && e[l] == '=') return 1;
    }
    return 0;
}

/* The build: the jars' identities (name, size, mtime, inode), so a rebuilt CLI never talks to an old daemon. */
static uint64_t fnv(uint64_t h, const void *d, size_t n) {
    const unsigned char *p = d;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}
static uint64_t file_id(const char *path, const char *name) {
    struct stat st;
    uint64_t h = 1469598103934665603ULL;
    if (stat(path, &st) != 0) return 0;
    h = fnv(h, name, strlen(name));
    h = fnv(h, &st.st_size, sizeof st.st_size);
    h = fnv(h, &st.st_mtim, sizeof st.st_mtim);
    h = fnv(h, &st.st_ino, sizeof st.st_ino);
    return h;
}
static void build_id(char *out, size_t n) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/sieve-cli.jar", target_dir);
    uint64_t h = file_id(path, "sieve-cli.jar");
    snprintf(path, sizeof path, "%s/lib", target_dir);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            char f[PATH_MAX];
            snprintf(f, sizeof f, "%s/lib/%s", target_dir, e->d_name);
            h += file_id(f, e->d_name); /* a sum: readdir's order does not matter */
        }
        closedir(d);
    }
    snprintf(out, n, "%016llx", (unsigned long long)h);
}

/* The socket folder (as dev.sieve.cli.daemon.SocketDir): created 0700; refused unless this user's and closed to others. */
static int socket_dir(char *dir, size_t n) {
    const char *d = getenv("SIEVE_CLI_SOCKET_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
    if (d && *d) snprintf(dir, n, "%s", d);
    else if (xdg && *xdg) snprintf(dir, n, "%s/sieve", xdg);
    else snprintf(dir, n, "/tmp/sieve-cli-%u", (unsigned)getuid());
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "sieve: cannot create the CLI daemon's folder %s: %s; running without the daemon\n", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sieve: CLI daemon socket folder %s is not a folder: refusing it; running without the daemon\n", dir);
        return -1;
    }
    if (st.st_uid != getuid()) {
        fprintf(stderr, "sieve: CLI daemon socket folder %s is owned by uid %u, not by this user (uid %u): refusing it; "
                        "running without the daemon\n", dir, (unsigned)st.st_uid, (unsigned)getuid());
        return -1;
    }
    if (st.st_mode & 077) {
        fprintf(stderr, "sieve: CLI daemon socket folder %s is open to other users (mode %03o): refusing it; running without the daemon\n",
                dir, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

static int connect_daemon(const char *dir) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", dir) >= (int)sizeof a.sun_path) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Starts `bin/sieve daemon run` detached (its own session, not our child, in /), with only the environment a JVM
 * needs. It waits until this process (about to become the JVM that runs the command) ends, up to 3 s: two JVMs
 * starting at once on two cores would make the first call slower than a plain JVM.
 */
static void spawn_daemon(const char *dir, const char *build) {
    pid_t client = getpid();
    pid_t pid = fork();
    if (pid < 0) return;
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        return;
    }
    setsid();
    if (fork() != 0) _exit(0);
    if (chdir("/") != 0) _exit(1);
    for (int i = 0; i < 150 && kill(client, 0) == 0; i++) usleep(20000);
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/daemon.log", dir);
    int nul = open("/dev/null", O_RDONLY), lg = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (nul >= 0) dup2(nul, 0);
    if (lg >= 0) { dup2(lg, 1); dup2(lg, 2); }
    for (int fd = 3; fd < 64; fd++) close(fd);
    char *env[16];
    int n = 0;
    static char e_dir[PATH_MAX + 32];
    snprintf(e_dir, sizeof e_dir, "SIEVE_CLI_SOCKET_DIR=%s", dir);
    env[n++] = e_dir;
    env[n++] = "SIEVE_CLI_DAEMON=0";
    const char *keep[] = {"PATH", "HOME", "JAVA_HOME", "SIEVE_JAVA_HOME", "SIEVE_CLI_DAEMON_IDLE_SECONDS", "SIEVE_CLI_CACHE", "LANG", NULL};
    for (const char **k = keep; *k; k++) {
        const char *v = getenv(*k);
        if (!v) continue;
        size_t l = strlen(*k) + strlen(v) + 2;
        char *e = malloc(l);
        snprintf(e, l, "%s=%s", *k, v);
        env[n++] = e;
    }
    env[n] = NULL;
    char *args[] = {"sieve", "daemon", "run", "--build-id", (char *)build, NULL};
    execve(launcher, args, env);
    _exit(127);
}

/* Ctrl-C, SIGTERM, SIGHUP: hang up (the daemon cancels the run), then die of the signal as a JVM would. */
static void on_signal(int sig) {
    if (sock_fd >= 0) close(sock_fd);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int read_full(int fd, void *p, size_t n) {
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static void write_full(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            if (errno == EPIPE) { /* `sieve ... | head`: hang up, then end as a JVM on a closed pipe would */
                close(sock_fd);
                signal(SIGPIPE, SIG_DFL);
                raise(SIGPIPE);
            }
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv) {
    char self[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
    if (l <= 0) { perror("sieve: /proc/self/exe"); return 1; }
    self[l] = 0;
    char *slash = strrchr(self, '/');
    *slash = 0;
    snprintf(target_dir, sizeof target_dir, "%s", self);
    snprintf(launcher, sizeof launcher, "%s/../../bin/sieve", target_dir);

    const char *off = getenv("SIEVE_CLI_DAEMON");
    /* lab stays in the foreground, owns namespaces and cleans up on its own signals: its own JVM */
    if ((off && strcmp(off, "0") == 0) || (argc > 1 && strcmp(argv[1], "lab") == 0)) exec_jvm(argv);
    char dir[PATH_MAX - 16];
    if (socket_dir(dir, sizeof dir) != 0) exec_jvm(argv);
    char build[32];
    build_id(build, sizeof build);
    int is_daemon_cmd = argc > 1 && strcmp(argv[1], "daemon") == 0;

    int fd = connect_daemon(dir);
    if (fd < 0) {
        if (!is_daemon_cmd) spawn_daemon(dir, build);
        exec_jvm(argv);
    }
    sock_fd = fd;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    struct buf b = {0};
    put_u32(&b, 0x53564331);
    put_str(&b, build);
    put_u32(&b, (isatty(1) ? 1 : 0) | (isatty(2) ? 2 : 0));
    char cwd[PATH_MAX];
    put_str(&b, getcwd(cwd, sizeof cwd) ? cwd : "/");
    put_u32(&b, (uint32_t)(argc - 1));
    for (int i = 1; i < argc; i++) put_str(&b, argv[i]);
    uint32_t envc = 0;
    for (char **e = environ; *e; e++) envc += forwarded(*e);
    put_u32(&b, envc);
    for (char **e = environ; *e; e++)
        if (forwarded(*e)) put_str(&b, *e);
    for (size_t sent = 0; sent < b.n;) {
        ssize_t w = send(fd, b.p + sent, b.n - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { close(fd); exec_jvm(argv); }
        sent += (size_t)w;
    }

    static char data[1 << 16];
    int any = 0;
    for (;;) {
        unsigned char head[5];
        if (read_full(fd, head, 5) != 0) {
            close(fd);
            if (!any) exec_jvm(argv); /* the daemon left before the run began (it was leaving): run it here */
            fprintf(stderr, "sieve: the CLI daemon went away during the run (see %s/daemon.log)\n", dir);
            return 1;
        }
        any = 1;
        uint32_t n = (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
        while (n > 0) {
            size_t chunk = n < sizeof data ? n : sizeof data;
            if (read_full(fd, data, chunk) != 0) {
                fprintf(stderr, "sieve: the CLI daemon went away during the run (see %s/daemon.log)\n", dir);
                return 1;
            }
            if (head[0] == 'O') write_full(1, data, chunk);
            else if (head[0] == 'E') write_full(2, data, chunk);
            else if (head[0] == 'X' && chunk == 4) {
                close(fd);
                return (int)((uint32_t)(unsigned char)data[0] << 24 | (uint32_t)(unsigned char)data[1] << 16
                             | (uint32_t)(unsigned char)data[2] << 8 | (unsigned char)data[3]);
            }
            n -= (uint32_t)chunk;
        }
        if (head[0] == 'B') { /* a daemon of another build, leaving now: this run in a JVM, a successor for the next */
            close(fd);
            spawn_daemon(dir, build);
            exec_jvm(argv);
        }
    }
}

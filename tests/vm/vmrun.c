/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo tests: run vmm-demo with the test guest (see vmrun.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmrun.h"
#include "vmtests.h"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool skip_without_kvm(void)
{
	char why[256];

	if (vmt_have_kvm(why, sizeof(why)))
		return false;
	fprintf(stderr, "kvm_suite: SKIP (%s)\n", why);
	return true;
}

static void make_disk(struct vmrun *r)
{
	int fd;

	snprintf(r->disk, sizeof(r->disk), "%s/disk.img", r->dir);
	fd = open(r->disk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", r->disk, strerror(errno));
	ck_assert_int_eq(
	    ftruncate(fd, r->disk_bytes ? r->disk_bytes : DISK_BYTES), 0);
	close(fd);
}

void append(char *buf, size_t cap, size_t *len, const char *src, size_t n)
{
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, src, n);
	*len += n;
	buf[*len] = 0;
}

static int try_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Keep the image in memory and remove the files, pass or fail. */
static void vm_cleanup(struct vmrun *r)
{
	FILE *f = fopen(r->disk, "rb");
	size_t n = 0, want = r->disk_bytes ? r->disk_bytes : DISK_BYTES;

	if (f) {
		n = fread(r->img, 1, DISK_BYTES, f);
		fclose(f);
	}
	unlink(r->disk);
	unlink(r->sock);
	rmdir(r->dir);
	/* r->img keeps the first DISK_BYTES of a larger image. */
	if (want > DISK_BYTES)
		want = DISK_BYTES;
	ck_assert_msg(n == want, "%s: read %zu bytes", r->disk, n);
}

/*
 * VMT_NO_SECCOMP=1 (the ASan run of make check): vmm-demo without its
 * filters except in the sandbox tests. Under a filter a sanitizer report
 * dies of SIGSYS before it is printed (readlink, /proc/self/maps), ASan
 * kills every run at thread exit (sigaltstack) and LSan at exit (prctl).
 */
bool no_seccomp(void)
{
	const char *v = getenv("VMT_NO_SECCOMP");

	return v && *v && strcmp(v, "0");
}

/* Run vmm-demo with the guest until it exits or TIMEOUT_S passes. */
void vm_run(struct vmrun *r)
{
	const char *vmm = vmt_env("VMM_DEMO"),
		   *guest = r->kernel ? r->kernel : vmt_env("TEST_GUEST");
	char disk_arg[160], con_arg[128];
	int out[2], errp[2], con = -1;
	double start = now_s(), end = start + TIMEOUT_S;
	bool out_open = true, err_open = true;
	pid_t pid;

	snprintf(r->dir, sizeof(r->dir), "/tmp/vmt-kvm.XXXXXX");
	ck_assert_msg(mkdtemp(r->dir), "mkdtemp: %s", strerror(errno));
	make_disk(r);
	snprintf(r->sock, sizeof(r->sock), "%s/con.sock", r->dir);
	snprintf(disk_arg, sizeof(disk_arg), "%s%s,serial=%s", r->disk,
		 r->disk_ro ? ",ro" : "", SERIAL);
	snprintf(con_arg, sizeof(con_arg), "socket:%s", r->sock);
	if (r->stdio_console)
		snprintf(con_arg, sizeof(con_arg), "stdio");
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(errp, O_CLOEXEC), 0);
	if (r->prefill) {
		static char junk[4096];
		int fl = fcntl(out[1], F_GETFL);

		memset(junk, 'j', sizeof(junk) - 1);
		junk[sizeof(junk) - 1] = '\n';
		fcntl(out[1], F_SETFL, fl | O_NONBLOCK);
		while (write(out[1], junk, sizeof(junk)) > 0)
			;
		fcntl(out[1], F_SETFL, fl);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *args[] = {
		    vmm,	 "--kernel", guest,
		    "--cmdline", r->cmdline, "--cmdline-devices",
		    "--memory",	 "64",	     "--vcpus",
		    r->vcpus,	 "--disk",   disk_arg,
		    "--console", con_arg,    "--rng"};
		const size_t nargs = sizeof(args) / sizeof(args[0]);
		char *argv[sizeof(args) / sizeof(args[0]) + VMRUN_EXTRA + 2];
		size_t n = 0;

		for (size_t i = 0; i < nargs; i++)
			argv[n++] = strdup(args[i]);
		for (size_t i = 0; i < VMRUN_EXTRA && r->extra[i]; i++)
			argv[n++] = strdup(r->extra[i]);
		if (!r->selftest && no_seccomp())
			argv[n++] = strdup("--no-seccomp");
		argv[n] = NULL;
		if (r->selftest) {
			setenv("VMM_DEMO_SECCOMP_SELFTEST", r->selftest, 1);
			/* ASan's per-thread sigaltstack teardown and LSan's
			 * exit scan are syscalls no filter allows. */
			setenv("ASAN_OPTIONS",
			       "use_sigaltstack=0:detect_leaks=0", 1);
		}
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		if (r->close_stdin)
			close(STDIN_FILENO);
		execv(vmm, argv);
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);
	while (out_open || err_open) {
		bool stalled = now_s() < start + r->stall_s;
		struct pollfd p[3] = {
		    {.fd = out_open && !stalled ? out[0] : -1,
		     .events = POLLIN},
		    {.fd = con, .events = POLLIN},
		    {.fd = err_open ? errp[0] : -1, .events = POLLIN}};
		char buf[4096];
		ssize_t n;

		if (now_s() > end) {
			r->timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (r->talk && con < 0)
			con = try_connect(r->sock);
		p[1].fd = con;
		if (poll(p, 3, con < 0 && r->talk ? 2 : 100) < 0 &&
		    errno != EINTR)
			break;
		if (p[2].revents) {
			n = read(errp[0], buf, sizeof(buf));
			if (n <= 0)
				err_open = false;
			else
				append(r->err, sizeof(r->err), &r->err_len, buf,
				       (size_t)n);
		}
		if (p[0].revents) {
			n = read(out[0], buf, sizeof(buf));
			if (n <= 0)
				out_open = false;
			else
				append(r->out, sizeof(r->out), &r->out_len, buf,
				       (size_t)n);
		}
		if (con >= 0 && p[1].revents) {
			n = read(con, buf, sizeof(buf));
			if (n > 0)
				append(r->con, sizeof(r->con), &r->con_len, buf,
				       (size_t)n);
			else if (n == 0 || errno != EAGAIN) {
				close(con);
				con = -2; /* do not reconnect */
			}
		}
		if (con >= 0 && !r->pinged && strstr(r->con, HELLO)) {
			if (r->stop_cont) {
				kill(pid, SIGSTOP);
				usleep(200000);
				kill(pid, SIGCONT);
				usleep(200000);
			}
			ck_assert_int_eq(write(con, "ping\n", 5), 5);
			r->pinged = true;
		}
	}
	close(out[0]);
	close(errp[0]);
	if (con >= 0)
		close(con);
	ck_assert_int_eq(waitpid(pid, &r->status, 0), pid);
	r->seconds = now_s() - start;
	vm_cleanup(r);
	fprintf(stderr, "---- vmm-demo (%s) %.2f s ----\n%s%s----\n",
		r->cmdline, r->seconds, r->out, r->err);
	ck_assert_msg(!r->timed_out, "vmm-demo killed after %d s; output:\n%s",
		      TIMEOUT_S, r->out);
	assert_no_sanitizer(r->err);
}

/* A sanitizer report fails the run even where the test expects a non-zero
 * exit or a signal (UBSan and ASan die with status 1, like a guest
 * failure; a killed run may have reported before). */
void assert_no_sanitizer(const char *log)
{
	const char *p = strstr(log, "Sanitizer"),
		   *ub = strstr(log, "runtime error:");

	if (!p || (ub && ub < p))
		p = ub;
	if (!p)
		return;
	while (p > log && p[-1] != '\n')
		p--;
	ck_abort_msg("sanitizer report in vmm-demo's log:\n%.4000s", p);
}

void assert_exit0(const struct vmrun *r)
{
	ck_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
		      "vmm-demo status 0x%x, want exit 0", r->status);
}

void assert_line(const struct vmrun *r, const char *prefix)
{
	const char *p = r->out;

	while ((p = strstr(p, prefix)) && p != r->out && p[-1] != '\n')
		p++;
	ck_assert_msg(p, "no line starting '%s' in:\n%s", prefix, r->out);
}

void assert_log(const struct vmrun *r, const char *text)
{
	ck_assert_msg(strstr(r->err, text), "no '%s' in vmm-demo's log:\n%s",
		      text, r->err);
}

void assert_exit(const struct vmrun *r, int code)
{
	ck_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == code,
		      "vmm-demo status 0x%x, want exit %d; log:\n%s", r->status,
		      code, r->err);
}

unsigned irq_of(const struct vmrun *r, const char *dev)
{
	const char *line = strstr(r->out, "TG irq "), *p;
	char key[32];
	unsigned n = 0;

	ck_assert_msg(line, "no 'TG irq' line");
	snprintf(key, sizeof(key), " %s=", dev);
	p = strstr(line, key);
	ck_assert_msg(p && p < strchr(line, '\n'), "no %s in the irq line",
		      dev);
	ck_assert_int_eq(sscanf(p + strlen(key), "%u", &n), 1);
	return n;
}

uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

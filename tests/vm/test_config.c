/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo tests: configuration from YAML and the command line. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "layout.h"
#include "vmtests.h"

static char tmp[256];	    /* this test's directory, canonical */
static char yaml[PATH_MAX]; /* tmp/vm.yaml */
static char *out;	    /* what the last run wrote on its err stream */
static struct vmm_config cfg;

static void put(const char *name, const char *text)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	f = fopen(p, "w");
	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void setup(void)
{
	char t[] = "/tmp/vmmcfg.XXXXXX";

	char *real;

	ck_assert_ptr_nonnull(mkdtemp(t));
	real = realpath(t, NULL);
	ck_assert_ptr_nonnull(real);
	ck_assert_uint_lt(strlen(real), sizeof(tmp));
	strcpy(tmp, real);
	free(real);
	snprintf(yaml, sizeof(yaml), "%s/vm.yaml", tmp);
	put("k", "kernel");
	put("initrd", "initrd");
	put("disk", "disk");
	memset(&cfg, 0, sizeof(cfg));
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void teardown(void)
{
	uid_t r, e, saved;

	if (!getresuid(&r, &e, &saved) && saved == 0 && e != 0) {
		ck_assert_int_eq(setresuid(0, 0, 0), 0);
		ck_assert_int_eq(setresgid(0, 0, 0), 0);
	}
	vmm_config_free(&cfg);
	free(out);
	out = NULL;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* @s with @F the config path and @D the test directory (malloc'd). */
static char *expand(const char *s)
{
	size_t cap = strlen(s) + 1;
	char *r, *o;

	for (const char *p = s; (p = strchr(p, '@')); p++)
		cap += PATH_MAX;
	r = o = malloc(cap);
	for (; *s; s++) {
		if (s[0] == '@' && (s[1] == 'F' || s[1] == 'D')) {
			o = stpcpy(o, s[1] == 'F' ? yaml : tmp);
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return r;
}

/* vmm_config_from_args() on "vmm-demo" @args (NULL-terminated, @F/@D
 * expanded), its err output in @out. */
static int run_v(const char *const *args)
{
	char *argv[32];
	int argc = 0, rc;
	size_t len;
	FILE *f;

	argv[argc++] = strdup("vmm-demo");
	for (; *args; args++) {
		ck_assert_int_lt(argc, 31);
		argv[argc++] = expand(*args);
	}
	argv[argc] = NULL;
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	vmm_config_free(&cfg);
	rc = vmm_config_from_args(argc, argv, &cfg, f);
	fclose(f);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return rc;
}

#define RUN(...) run_v((const char *const[]){__VA_ARGS__, NULL})

static void assert_out(const char *want)
{
	char *w = expand(want);

	ck_assert_str_eq(out, w);
	free(w);
}

/* A 0-returning run writes nothing. */
#define ASSERT_OK(rc)                                                          \
	do {                                                                   \
		int rc_ = (rc);                                                \
		ck_assert_msg(rc_ == 0, "rc %d: %s", rc_, out);                \
		ck_assert_str_eq(out, "");                                     \
	} while (0)

static void assert_path(const char *got, const char *want)
{
	char *w = expand(want);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, w);
	free(w);
}

START_TEST(test_full_file)
{
	put("vm.yaml", "vcpus: 3\n"
		       "memory: 48   # MiB\n"
		       "kernel: k\n"
		       "initrd: initrd\n"
		       "cmdline: \"console=ttyS0 earlyprintk=serial\"\n"
		       "seccomp: false\n"
		       "log_level: debug\n"
		       "cmdline_devices: true\n"
		       "devices:\n"
		       "  - type: blk\n"
		       "    path: disk\n"
		       "    read_only: true\n"
		       "    serial: disk0\n"
		       "    engine: sync\n"
		       "    cache: off\n"
		       "    address: 0xd0000600\n"
		       "    irq: 20\n"
		       "  - type: console\n"
		       "    backend: file\n"
		       "    path: con.log\n"
		       "  - type: console\n"
		       "    backend: socket\n"
		       "    path: con.sock\n"
		       "  - type: console\n"
		       "    backend: pty\n"
		       "  - type: console\n"
		       "  - type: rng\n"
		       "    rate: 1000\n"
		       "    burst: 8192\n"
		       "  - type: blk\n"
		       "    path: disk\n"
		       "    engine: uring\n");
	ASSERT_OK(RUN("--config", "@F"));
	ck_assert_uint_eq(cfg.vcpus, 3);
	ck_assert_uint_eq(cfg.memory_mib, 48);
	assert_path(cfg.kernel, "@D/k");
	assert_path(cfg.initrd, "@D/initrd");
	ck_assert_str_eq(cfg.cmdline, "console=ttyS0 earlyprintk=serial");
	ck_assert(!cfg.seccomp);
	ck_assert_int_eq(cfg.log_level, VMM_LOG_DEBUG);
	ck_assert(cfg.cmdline_devices);
	assert_path(cfg.config_path, "@F");
	ck_assert_uint_eq(cfg.ndev, 7);

	ck_assert_int_eq(cfg.dev[0].kind, VMM_DEV_BLK);
	assert_path(cfg.dev[0].path, "@D/disk");
	ck_assert(cfg.dev[0].read_only);
	ck_assert_str_eq(cfg.dev[0].serial, "disk0");
	ck_assert_int_eq(cfg.dev[0].engine, VMMIO_BLK_ENGINE_SYNC);
	ck_assert(cfg.dev[0].direct);
	ck_assert_uint_eq(cfg.dev[0].addr, 0xd0000600);
	ck_assert_uint_eq(cfg.dev[0].irq, 20);

	ck_assert_int_eq(cfg.dev[1].kind, VMM_DEV_CONSOLE);
	ck_assert_int_eq(cfg.dev[1].console, VMM_CONSOLE_FILE);
	assert_path(cfg.dev[1].console_path, "@D/con.log");
	ck_assert_int_eq(cfg.dev[2].console, VMM_CONSOLE_SOCKET);
	assert_path(cfg.dev[2].console_path, "@D/con.sock");
	ck_assert_int_eq(cfg.dev[3].console, VMM_CONSOLE_PTY);
	ck_assert_ptr_null(cfg.dev[3].console_path);
	ck_assert_int_eq(cfg.dev[4].console, VMM_CONSOLE_STDIO);

	ck_assert_int_eq(cfg.dev[5].kind, VMM_DEV_RNG);
	ck_assert_uint_eq(cfg.dev[5].rate, 1000);
	ck_assert_uint_eq(cfg.dev[5].burst, 8192);

	ck_assert_int_eq(cfg.dev[6].kind, VMM_DEV_BLK);
	ck_assert(!cfg.dev[6].read_only);
	ck_assert_ptr_null(cfg.dev[6].serial);
	ck_assert_int_eq(cfg.dev[6].engine, VMMIO_BLK_ENGINE_URING);
	ck_assert(!cfg.dev[6].direct);

	/* The rest in list order around the blk's 0xd0000600 / 20. */
	static const uint64_t addr[] = {0xd0000600, 0xd0000000, 0xd0000200,
					0xd0000400, 0xd0000800, 0xd0000a00,
					0xd0000c00};
	static const uint32_t irq[] = {20, 16, 17, 18, 19, 21, 22};
	for (unsigned i = 0; i < 7; i++) {
		ck_assert_uint_eq(cfg.dev[i].addr, addr[i]);
		ck_assert_uint_eq(cfg.dev[i].irq, irq[i]);
	}
}
END_TEST

START_TEST(test_defaults)
{
	ASSERT_OK(RUN("--kernel", "@D/k"));
	ck_assert_uint_eq(cfg.vcpus, 1);
	ck_assert_uint_eq(cfg.memory_mib, 256);
	assert_path(cfg.kernel, "@D/k");
	ck_assert_ptr_null(cfg.initrd);
	ck_assert_ptr_null(cfg.cmdline);
	ck_assert(cfg.seccomp);
	ck_assert(!cfg.cmdline_devices);
	ck_assert_int_eq(cfg.log_level, VMM_LOG_INFO);
	ck_assert_ptr_null(cfg.config_path);
	ck_assert_uint_eq(cfg.ndev, 0);

	/* A file with only a kernel gives the same. */
	put("vm.yaml", "kernel: k\ndevices:\n");
	ASSERT_OK(RUN("--config", "@F"));
	ck_assert_uint_eq(cfg.vcpus, 1);
	ck_assert_uint_eq(cfg.memory_mib, 256);
	ck_assert(cfg.seccomp);
	ck_assert_int_eq(cfg.log_level, VMM_LOG_INFO);
	ck_assert_uint_eq(cfg.ndev, 0);
	/* Devices without optional keys: blk rw, auto, no serial; console
	 * stdio; rng unlimited. */
	put("vm.yaml", "kernel: k\ndevices:\n- type: blk\n  path: disk\n"
		       "- type: console\n- type: rng\n");
	ASSERT_OK(RUN("--config", "@F"));
	ck_assert_uint_eq(cfg.ndev, 3);
	ck_assert(!cfg.dev[0].read_only);
	ck_assert_int_eq(cfg.dev[0].engine, VMMIO_BLK_ENGINE_AUTO);
	ck_assert_ptr_null(cfg.dev[0].serial);
	ck_assert_int_eq(cfg.dev[1].console, VMM_CONSOLE_STDIO);
	ck_assert_uint_eq(cfg.dev[2].rate, 0);
	ck_assert_uint_eq(cfg.dev[2].burst, 0);
}
END_TEST

START_TEST(test_flags_override)
{
	put("k2", "other kernel");
	put("vm.yaml", "vcpus: 2\nmemory: 64\nkernel: k\ninitrd: initrd\n"
		       "cmdline: from-file\nlog_level: warn\n"
		       "devices:\n  - type: rng\n");
	/* --config last: still read first, the flags win. */
	ASSERT_OK(RUN(
	    "--vcpus", "4", "--memory", "32", "--kernel", "@D/k2", "--initrd",
	    "@D/k", "--cmdline", "from flag", "--log-level", "error",
	    "--no-seccomp", "--cmdline-devices", "--disk",
	    "@D/disk,ro,serial=abc,engine=sync,cache=off", "--console",
	    "file:@D/out.log", "--rng=500", "--disk", "@D/disk", "--console",
	    "socket:@D/s", "--console", "pty", "--config", "@F"));
	ck_assert_uint_eq(cfg.vcpus, 4);
	ck_assert_uint_eq(cfg.memory_mib, 32);
	assert_path(cfg.kernel, "@D/k2");
	assert_path(cfg.initrd, "@D/k");
	ck_assert_str_eq(cfg.cmdline, "from flag");
	ck_assert_int_eq(cfg.log_level, VMM_LOG_ERROR);
	ck_assert(!cfg.seccomp);
	ck_assert(cfg.cmdline_devices);
	/* The flags' devices come after the file's. */
	ck_assert_uint_eq(cfg.ndev, 7);
	ck_assert_int_eq(cfg.dev[0].kind, VMM_DEV_RNG);
	ck_assert_uint_eq(cfg.dev[0].rate, 0);
	ck_assert_int_eq(cfg.dev[1].kind, VMM_DEV_BLK);
	assert_path(cfg.dev[1].path, "@D/disk");
	ck_assert(cfg.dev[1].read_only);
	ck_assert_str_eq(cfg.dev[1].serial, "abc");
	ck_assert_int_eq(cfg.dev[1].engine, VMMIO_BLK_ENGINE_SYNC);
	ck_assert(cfg.dev[1].direct);
	ck_assert_int_eq(cfg.dev[2].kind, VMM_DEV_CONSOLE);
	ck_assert_int_eq(cfg.dev[2].console, VMM_CONSOLE_FILE);
	assert_path(cfg.dev[2].console_path, "@D/out.log");
	ck_assert_int_eq(cfg.dev[3].kind, VMM_DEV_RNG);
	ck_assert_uint_eq(cfg.dev[3].rate, 500);
	ck_assert_int_eq(cfg.dev[4].kind, VMM_DEV_BLK);
	ck_assert(!cfg.dev[4].read_only);
	ck_assert_int_eq(cfg.dev[4].engine, VMMIO_BLK_ENGINE_AUTO);
	ck_assert(!cfg.dev[4].direct);
	ck_assert_int_eq(cfg.dev[5].console, VMM_CONSOLE_SOCKET);
	assert_path(cfg.dev[5].console_path, "@D/s");
	ck_assert_int_eq(cfg.dev[6].console, VMM_CONSOLE_PTY);
	for (unsigned i = 0; i < 7; i++) {
		ck_assert_uint_eq(cfg.dev[i].addr,
				  VMM_VIRTIO_BASE + i * VMM_VIRTIO_SIZE);
		ck_assert_uint_eq(cfg.dev[i].irq, VMM_VIRTIO_IRQ_BASE + i);
	}
	/* The file's bad kernel does not matter once --kernel replaces it;
	 * a later flag replaces an earlier one. */
	put("vm.yaml", "kernel: missing\n");
	ASSERT_OK(RUN("--config", "@F", "--vcpus", "2", "--vcpus", "5",
		      "--kernel", "@D/k"));
	ck_assert_uint_eq(cfg.vcpus, 5);
	assert_path(cfg.kernel, "@D/k");
	/* --config=FILE and abbreviations work as getopt_long's. */
	put("vm.yaml", "kernel: k\n");
	ASSERT_OK(RUN("--config=@F", "--mem=100"));
	ck_assert_uint_eq(cfg.memory_mib, 100);
}
END_TEST

START_TEST(test_relative_paths)
{
	char sub[PATH_MAX + 8], other[PATH_MAX + 8], old[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/sub", tmp);
	snprintf(other, sizeof(other), "%s/other", tmp);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(mkdir(other, 0755), 0);
	put("sub/vm.yaml", "kernel: ../k\ndevices:\n"
			   "  - type: blk\n    path: ../disk\n"
			   "  - type: console\n    backend: file\n"
			   "    path: logs/con.log\n");
	ck_assert_ptr_nonnull(getcwd(old, sizeof(old)));
	ck_assert_int_eq(chdir(other), 0);
	/* The file's paths from its directory, the flags' from the current
	 * one; the config path itself relative to the current one. */
	int rc = RUN("--config", "../sub/vm.yaml", "--initrd", "../initrd",
		     "--console", "file:c2.log", "--disk", "./../disk,ro");
	ck_assert_int_eq(chdir(old), 0);
	ASSERT_OK(rc);
	assert_path(cfg.config_path, "@D/sub/vm.yaml");
	assert_path(cfg.kernel, "@D/k");
	assert_path(cfg.initrd, "@D/initrd");
	assert_path(cfg.dev[0].path, "@D/disk");
	/* Not there yet: joined, not canonicalised. */
	assert_path(cfg.dev[1].console_path, "@D/sub/logs/con.log");
	assert_path(cfg.dev[2].console_path, "@D/other/c2.log");
	assert_path(cfg.dev[3].path, "@D/disk");
	/* Absolute paths stay. */
	put("vm.yaml", "kernel: @D/k\n");
	char *abs = expand("kernel: @D/k\n");
	put("vm.yaml", abs);
	free(abs);
	ASSERT_OK(RUN("--config", "@F"));
	assert_path(cfg.kernel, "@D/k");
}
END_TEST

START_TEST(test_auto_assign)
{
	/* Explicit windows/irqs anywhere in the list; the others take the
	 * first free ones in list order. */
	put("vm.yaml", "kernel: k\ndevices:\n"
		       "  - type: rng\n"
		       "  - type: rng\n    address: 0xd0000000\n    irq: 17\n"
		       "  - type: rng\n    irq: 16\n"
		       "  - type: rng\n    address: 0xd0000400\n"
		       "  - type: rng\n    address: 0xfebffe00\n    irq: 23\n"
		       "  - type: rng\n");
	ASSERT_OK(RUN("--config", "@F", "--rng", "--rng"));
	static const uint64_t addr[] = {0xd0000200, 0xd0000000, 0xd0000600,
					0xd0000400, 0xfebffe00, 0xd0000800,
					0xd0000a00, 0xd0000c00};
	static const uint32_t irq[] = {18, 17, 16, 19, 23, 20, 21, 22};
	ck_assert_uint_eq(cfg.ndev, 8);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_msg(cfg.dev[i].addr == addr[i], "dev %u addr %#llx",
			      i, (unsigned long long)cfg.dev[i].addr);
		ck_assert_msg(cfg.dev[i].irq == irq[i], "dev %u irq %u", i,
			      cfg.dev[i].irq);
	}
}
END_TEST

/* One row per validation rule: the file (NULL: none) and the flags, and
 * the one message expected (@F the file, @D the directory). */
static const struct bad_row {
	const char *yaml;
	const char *args[8];
	const char *msg;
} bad_rows[] = {
    /* unknown keys */
    {"kernel: k\nvcpu: 2\n", {0}, "vmm-demo: @F:2: vcpu: unknown key\n"},
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n"
     "    adress: 0xd0000400\n",
     {0},
     "vmm-demo: @F:5: devices[0].adress: unknown key\n"},
    {"kernel: k\ndevices:\n  - type: rng\n  - {type: rng, rates: 1}\n",
     {0},
     "vmm-demo: @F:4: devices[1].rates: unknown key\n"},
    /* a key of another device type */
    {"kernel: k\ndevices:\n  - type: rng\n    backend: stdio\n",
     {0},
     "vmm-demo: @F:4: devices[0].backend: does not apply to type rng\n"},
    {"kernel: k\ndevices:\n  - type: console\n    serial: x\n",
     {0},
     "vmm-demo: @F:4: devices[0].serial: does not apply to type "
     "console\n"},
    /* wrong types */
    {"kernel: k\nvcpus: [1, 2]\n",
     {0},
     "vmm-demo: @F:2: vcpus: expected a scalar, found a list\n"},
    {"kernel: k\ndevices:\n  - blk\n",
     {0},
     "vmm-demo: @F:3: devices[0]: expected a mapping, found a scalar\n"},
    {"kernel: k\ndevices: 3\n",
     {0},
     "vmm-demo: @F:2: devices: expected a list, found a scalar\n"},
    {"- kernel: k\n", {0}, "vmm-demo: @F: expected a mapping, found a list\n"},
    {"kernel: k\nvcpus: two\n",
     {0},
     "vmm-demo: @F:2: vcpus: 'two' is not a number\n"},
    {"kernel: k\nmemory: 512M\n",
     {0},
     "vmm-demo: @F:2: memory: '512M' is not a number\n"},
    {"kernel: k\nmemory: -1\n",
     {0},
     "vmm-demo: @F:2: memory: '-1' is not a number\n"},
    {"kernel: k\nmemory: 18446744073709551616\n",
     {0},
     "vmm-demo: @F:2: memory: '18446744073709551616' is not a number\n"},
    {"kernel: k\nseccomp: maybe\n",
     {0},
     "vmm-demo: @F:2: seccomp: 'maybe' is not a boolean (true or false)\n"},
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n    read_only: 2\n",
     {0},
     "vmm-demo: @F:5: devices[0].read_only: '2' is not a boolean (true or "
     "false)\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    rate: fast\n",
     {0},
     "vmm-demo: @F:4: devices[0].rate: 'fast' is not a number\n"},
    /* missing keys */
    {"vcpus: 1\n",
     {0},
     "vmm-demo: @F: kernel: missing (give it in the file or with "
     "--kernel)\n"},
    {"kernel: k\ndevices:\n  - path: disk\n",
     {0},
     "vmm-demo: @F:3: devices[0]: missing key 'type'\n"},
    {"kernel: k\ndevices:\n  - type: rng\n  - type: blk\n",
     {0},
     "vmm-demo: @F:4: devices[1]: missing key 'path' (required for type "
     "blk)\n"},
    /* missing or unusable files */
    {"kernel: nokernel\n",
     {0},
     "vmm-demo: @F:1: kernel: '@D/nokernel': No such file or directory\n"},
    {"kernel: k\ninitrd: noinitrd\n",
     {0},
     "vmm-demo: @F:2: initrd: '@D/noinitrd': No such file or directory\n"},
    {"kernel: k\ndevices:\n  - type: blk\n    path: nodisk\n",
     {0},
     "vmm-demo: @F:4: devices[0].path: '@D/nodisk': No such file or "
     "directory\n"},
    {"kernel: .\n", {0}, "vmm-demo: @F:1: kernel: '@D': not a regular file\n"},
    {"kernel: k\ndevices:\n  - type: blk\n    path: .\n    read_only: yes\n",
     {0},
     "vmm-demo: @F:4: devices[0].path: '@D': not a regular file or block "
     "device\n"},
    {"kernel: ''\n", {0}, "vmm-demo: @F:1: kernel: empty path\n"},
    {NULL,
     {"--config", "@D/none.yaml"},
     "vmm-demo: --config: '@D/none.yaml': No such file or directory\n"},
    {NULL, {"--config", "@D"}, "vmm-demo: --config: '@D': Is a directory\n"},
    /* vcpus, memory */
    {"kernel: k\nvcpus: 0\n",
     {0},
     "vmm-demo: @F:2: vcpus: 0 is not in 1..64\n"},
    {"kernel: k\nvcpus: 65\n",
     {0},
     "vmm-demo: @F:2: vcpus: 65 is not in 1..64\n"},
    {"kernel: k\nmemory: 15\n",
     {0},
     "vmm-demo: @F:2: memory: 15 MiB is below the minimum of 16 MiB\n"},
    {"kernel: k\nmemory: 1048577\n",
     {0},
     "vmm-demo: @F:2: memory: 1048577 MiB is above the maximum of 1048576 "
     "MiB (1 TiB)\n"},
    /* device count */
    {"kernel: k\ndevices:\n- type: rng\n- type: rng\n- type: rng\n"
     "- type: rng\n- type: rng\n- type: rng\n- type: rng\n- type: rng\n"
     "- type: rng\n",
     {0},
     "vmm-demo: @F:11: devices: more than 8 devices\n"},
    {"kernel: k\ndevices:\n- type: rng\n- type: rng\n- type: rng\n"
     "- type: rng\n- type: rng\n- type: rng\n- type: rng\n- type: rng\n",
     {"--rng"},
     "vmm-demo: --rng: more than 8 devices in all (the config file's and "
     "the flags')\n"},
    /* windows */
    {"kernel: k\ndevices:\n  - type: rng\n    address: 0xd0000100\n",
     {0},
     "vmm-demo: @F:4: devices[0].address: 0xd0000100 is not 0x200-aligned\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    address: 0xc0000000\n",
     {0},
     "vmm-demo: @F:4: devices[0].address: 0xc0000000 is outside the "
     "virtio-mmio range 0xd0000000..0xfebfffff\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    address: 0xfec00000\n",
     {0},
     "vmm-demo: @F:4: devices[0].address: 0xfec00000 is outside the "
     "virtio-mmio range 0xd0000000..0xfebfffff\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    address: 0xd0000200\n"
     "  - type: console\n    address: 3489661440\n",
     {0},
     "vmm-demo: @F:6: devices[1].address: window 0xd0000200 is also "
     "devices[0]'s\n"},
    /* irqs */
    {"kernel: k\ndevices:\n  - type: rng\n    irq: 15\n",
     {0},
     "vmm-demo: @F:4: devices[0].irq: 15 is not in 16..23\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    irq: 24\n",
     {0},
     "vmm-demo: @F:4: devices[0].irq: 24 is not in 16..23\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    irq: 18\n"
     "  - type: rng\n    irq: 18\n",
     {0},
     "vmm-demo: @F:6: devices[1].irq: 18 is also devices[0]'s\n"},
    /* consoles */
    {"kernel: k\ndevices:\n  - type: console\n"
     "  - type: console\n    backend: stdio\n",
     {0},
     "vmm-demo: @F:5: devices[1].backend: a second console on stdio "
     "(devices[0] has it)\n"},
    {"kernel: k\ndevices:\n  - type: console\n",
     {"--console", "stdio"},
     "vmm-demo: --console: a second console on stdio (devices[0] has it)\n"},
    {"kernel: k\ndevices:\n  - type: console\n    backend: file\n",
     {0},
     "vmm-demo: @F:4: devices[0].backend: 'file' needs a path\n"},
    {"kernel: k\ndevices:\n  - type: console\n    backend: socket\n",
     {0},
     "vmm-demo: @F:4: devices[0].backend: 'socket' needs a path\n"},
    {"kernel: k\ndevices:\n  - type: console\n    backend: pty\n    path: x\n",
     {0},
     "vmm-demo: @F:5: devices[0].path: applies only to backend file or "
     "socket, not 'pty'\n"},
    /* names */
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n    engine: fast\n",
     {0},
     "vmm-demo: @F:5: devices[0].engine: 'fast' is not one of "
     "auto|sync|uring\n"},
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n    cache: no\n",
     {0},
     "vmm-demo: @F:5: devices[0].cache: 'no' is not one of on|off\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    cache: off\n",
     {0},
     "vmm-demo: @F:4: devices[0].cache: does not apply to type rng\n"},
    {"kernel: k\ndevices:\n  - type: console\n    backend: tty\n",
     {0},
     "vmm-demo: @F:4: devices[0].backend: 'tty' is not one of "
     "stdio|file|socket|pty\n"},
    {"kernel: k\nlog_level: loud\n",
     {0},
     "vmm-demo: @F:2: log_level: 'loud' is not one of "
     "error|warn|info|debug\n"},
    {"kernel: k\ndevices:\n  - type: gpu\n",
     {0},
     "vmm-demo: @F:3: devices[0].type: 'gpu' is not one of "
     "blk|console|rng\n"},
    /* blk fail_eio (testing): a sector range inside the image */
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n    fail_eio: 10\n",
     {0},
     "vmm-demo: @F:5: devices[0].fail_eio: '10' is not a sector range "
     "START-END\n"},
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n"
     "    fail_eio: 20-10\n",
     {0},
     "vmm-demo: @F:5: devices[0].fail_eio: '20-10': START is after END\n"},
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n"
     "    fail_eio: 0-7\n",
     {0},
     "vmm-demo: @F:5: devices[0].fail_eio: sector 0 is past the end of "
     "'@D/disk' (0 sectors)\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    fail_eio: 1-2\n",
     {0},
     "vmm-demo: @F:4: devices[0].fail_eio: does not apply to type rng\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,fail-eio=x-1"},
     "vmm-demo: --disk: 'x-1' is not a sector range START-END\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,fail-eio=-5"},
     "vmm-demo: --disk: '-5' is not a sector range START-END\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,fail-eio=1-18446744073709551616"},
     "vmm-demo: --disk: '1-18446744073709551616' is not a sector range "
     "START-END\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,fail-eio=3-2"},
     "vmm-demo: --disk: '3-2': START is after END\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,fail-eio=0-0"},
     "vmm-demo: --disk: sector 0 is past the end of '@D/disk' (0 "
     "sectors)\n"},
    /* blk serial, rng burst */
    {"kernel: k\ndevices:\n  - type: blk\n    path: disk\n"
     "    serial: 123456789012345678901\n",
     {0},
     "vmm-demo: @F:5: devices[0].serial: '123456789012345678901' is longer "
     "than 20 bytes\n"},
    {"kernel: k\ndevices:\n  - type: rng\n    burst: 100\n",
     {0},
     "vmm-demo: @F:4: devices[0].burst: 100 bytes is less than one request "
     "(4096); 0 picks the default\n"},
    /* YAML itself */
    {"kernel: k\nvcpus: 2\nkernel: k\n",
     {0},
     "vmm-demo: @F:3: kernel: given twice\n"},
    {"kernel: k\n  x: : y\n",
     {0},
     "vmm-demo: @F: YAML syntax error: mapping values are not allowed in "
     "this context (after line 1)\n"},
    {"kernel: &a k\ninitrd: *a\n",
     {0},
     "vmm-demo: @F:2: initrd: YAML aliases are not supported\n"},
    {"",
     {0},
     "vmm-demo: @F: empty, expected a mapping with at least "
     "'kernel'\n"},
    /* hostile values are shown sanitised and cut */
    {"kernel: k\nvcpus: \"\\e[31m\\n\"\n",
     {0},
     "vmm-demo: @F:2: vcpus: '?[31m?' is not a number\n"},
    {"kernel: k\nvcpus: "
     "1234567890123456789012345678901234567890123456789012345678901234567890"
     "\n",
     {0},
     "vmm-demo: @F:2: vcpus: "
     "'123456789012345678901234567890123456789012345678901234567890...' "
     "is not a number\n"},
    /* command line */
    {NULL, {0}, "vmm-demo: no kernel: give --kernel K or --config FILE\n"},
    {NULL,
     {"--kernel", "@D/nok"},
     "vmm-demo: --kernel: '@D/nok': No such file or directory\n"},
    {NULL,
     {"--kernel", "@D/k", "--initrd", "@D"},
     "vmm-demo: --initrd: '@D': not a regular file\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/nodisk"},
     "vmm-demo: --disk: '@D/nodisk': No such file or directory\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,rx"},
     "vmm-demo: --disk: unknown option 'rx' in '@D/disk,rx' (ro, "
     "serial=ID, engine=auto|sync|uring, cache=on|off, "
     "fail-eio=START-END)\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,cache=none"},
     "vmm-demo: --disk: 'none' is not one of on|off\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,"},
     "vmm-demo: --disk: empty option in '@D/disk,'\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", ",ro"},
     "vmm-demo: --disk: no path in ',ro'\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,engine=fast"},
     "vmm-demo: --disk: 'fast' is not one of auto|sync|uring\n"},
    {NULL,
     {"--kernel", "@D/k", "--disk", "@D/disk,serial="},
     "vmm-demo: --disk: empty serial= in '@D/disk,serial='\n"},
    {NULL,
     {"--kernel", "@D/k", "--console", ""},
     "vmm-demo: --console: empty spec (stdio, file:PATH, socket:PATH or "
     "pty)\n"},
    {NULL,
     {"--kernel", "@D/k", "--console", "tty"},
     "vmm-demo: --console: 'tty' is not stdio, file:PATH, socket:PATH or "
     "pty\n"},
    {NULL,
     {"--kernel", "@D/k", "--console", "stdio:x"},
     "vmm-demo: --console: 'stdio:x' is not stdio, file:PATH, socket:PATH "
     "or pty\n"},
    {NULL,
     {"--kernel", "@D/k", "--console", "file:"},
     "vmm-demo: --console: 'file:' needs a path: file:PATH\n"},
    {NULL,
     {"--kernel", "@D/k", "--console", "socket"},
     "vmm-demo: --console: 'socket' needs a path: socket:PATH\n"},
    {NULL,
     {"--kernel", "@D/k", "--console", "stdio", "--console", "pty", "--console",
      "stdio"},
     "vmm-demo: --console: a second console on stdio (the --console device "
     "has it)\n"},
    {NULL,
     {"--kernel", "@D/k", "--vcpus", "0x"},
     "vmm-demo: --vcpus: '0x' is not a number\n"},
    {NULL,
     {"--kernel", "@D/k", "--vcpus", "65"},
     "vmm-demo: --vcpus: 65 is not in 1..64\n"},
    {NULL,
     {"--kernel", "@D/k", "--memory", "8"},
     "vmm-demo: --memory: 8 MiB is below the minimum of 16 MiB\n"},
    {NULL,
     {"--kernel", "@D/k", "--log-level", "loud"},
     "vmm-demo: --log-level: 'loud' is not one of error|warn|info|debug\n"},
    {NULL,
     {"--kernel", "@D/k", "--rng=1k"},
     "vmm-demo: --rng: '1k' is not a number\n"},
    {NULL,
     {"--kernel", "@D/k", "--foo"},
     "vmm-demo: bad option '--foo' "
     "(see --help)\n"},
    {NULL,
     {"--kernel", "@D/k", "--no-seccomp=1"},
     "vmm-demo: bad option '--no-seccomp=1' (see --help)\n"},
    {NULL, {"--kernel"}, "vmm-demo: --kernel needs a value\n"},
    {NULL,
     {"--kernel", "@D/k", "--rng", "100"},
     "vmm-demo: unexpected argument '100' (see --help)\n"},
    {NULL,
     {"--config", "a.yaml", "--config", "b.yaml"},
     "vmm-demo: --config: given twice ('a.yaml', 'b.yaml')\n"},
};

START_TEST(test_bad)
{
	const struct bad_row *r = &bad_rows[_i];
	const char *args[16];
	int n = 0;

	if (r->yaml) {
		put("vm.yaml", r->yaml);
		args[n++] = "--config";
		args[n++] = "@F";
	}
	for (int i = 0; i < 8 && r->args[i]; i++)
		args[n++] = r->args[i];
	args[n] = NULL;
	ck_assert_msg(run_v(args) == 2, "row %d: not rejected", _i);
	assert_out(r->msg);
	/* Nothing is left in the config after a failure. */
	ck_assert_ptr_null(cfg.kernel);
	ck_assert_uint_eq(cfg.ndev, 0);
}
END_TEST

START_TEST(test_cmdline_length)
{
	char *text = malloc(4200), *flag = malloc(4200);

	memset(flag, 'a', 4096);
	flag[4096] = '\0';
	snprintf(text, 4200, "kernel: k\ncmdline: %s\n", flag);
	put("vm.yaml", text);
	ck_assert_int_eq(RUN("--config", "@F"), 2);
	assert_out("vmm-demo: @F:2: cmdline: 4096 bytes, at most 4095\n");
	ck_assert_int_eq(RUN("--kernel", "@D/k", "--cmdline", flag), 2);
	assert_out("vmm-demo: --cmdline: 4096 bytes, at most 4095\n");
	flag[4095] = '\0';
	ASSERT_OK(RUN("--kernel", "@D/k", "--cmdline", flag));
	ck_assert_uint_eq(strlen(cfg.cmdline), 4095);
	free(text);
	free(flag);
}
END_TEST

static unsigned long long memtotal_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kib = 0;
	char line[128];

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib / 1024;
}

START_TEST(test_memory_host)
{
	unsigned long long host = memtotal_mib();
	char v[32], want[160];

	if (host + 1 > 1024 * 1024)
		return; /* more than 1 TiB here: the 1 TiB rule comes first */
	snprintf(v, sizeof(v), "%llu", host + 1);
	ck_assert_int_eq(RUN("--kernel", "@D/k", "--memory", v), 2);
	snprintf(want, sizeof(want),
		 "vmm-demo: --memory: %llu MiB is more than this host has "
		 "(MemTotal %llu MiB)\n",
		 host + 1, host);
	ck_assert_str_eq(out, want);
	snprintf(v, sizeof(v), "%llu", host);
	ASSERT_OK(RUN("--kernel", "@D/k", "--memory", v));
	ck_assert_uint_eq(cfg.memory_mib, host);
}
END_TEST

/* Unreadable kernel, read-only image: as a user without root's override
 * (root drops to nobody here; the test runs in its own process). */
START_TEST(test_permissions)
{
	char p[PATH_MAX + 16];
	const char *fork = getenv("CK_FORK");

	put("k0", "kernel");
	put("ro.img", "image");
	snprintf(p, sizeof(p), "%s/k0", tmp);
	ck_assert_int_eq(chmod(p, 0), 0);
	snprintf(p, sizeof(p), "%s/ro.img", tmp);
	ck_assert_int_eq(chmod(p, 0444), 0);
	ck_assert_int_eq(chmod(tmp, 0777), 0);
	if (geteuid() == 0) {
		if (fork && !strcmp(fork, "no"))
			return; /* cannot drop root for this test alone */
		/* Saved ids stay 0: teardown() takes root back to clean up. */
		ck_assert_int_eq(setresgid(65534, 65534, 0), 0);
		ck_assert_int_eq(setresuid(65534, 65534, 0), 0);
	}
	put("vm.yaml", "kernel: k0\n");
	ck_assert_int_eq(RUN("--config", "@F"), 2);
	assert_out("vmm-demo: @F:1: kernel: '@D/k0': Permission denied\n");
	put("vm.yaml",
	    "kernel: k\ndevices:\n  - type: blk\n    path: ro.img\n");
	ck_assert_int_eq(RUN("--config", "@F"), 2);
	assert_out("vmm-demo: @F:4: devices[0].path: '@D/ro.img': cannot open "
		   "for writing: Permission denied (set read_only: true)\n");
	ck_assert_int_eq(RUN("--kernel", "@D/k", "--disk", "@D/ro.img"), 2);
	assert_out("vmm-demo: --disk: '@D/ro.img': cannot open for writing: "
		   "Permission denied (add ,ro)\n");
	ASSERT_OK(RUN("--kernel", "@D/k", "--disk", "@D/ro.img,ro"));
	put("vm.yaml", "kernel: k\ndevices:\n  - type: blk\n    path: ro.img\n"
		       "    read_only: true\n");
	ASSERT_OK(RUN("--config", "@F"));
}
END_TEST

/* --help / --version: stdout, status 1, nothing else read. */
static char *run_info(const char *flag, int *rc)
{
	char p[PATH_MAX + 16];
	int saved, fd;

	snprintf(p, sizeof(p), "%s/stdout", tmp);
	fflush(stdout);
	saved = dup(1);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 1);
	close(fd);
	/* A bad --vcpus and a missing file do not matter. */
	*rc = RUN("--vcpus", "0", flag, "--config", "@D/none.yaml");
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return slurp(p);
}

START_TEST(test_help_version)
{
	int rc;
	char *text = run_info("--version", &rc);

	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(text, "vmm-demo 0.1.0\n");
	free(text);
	text = run_info("--help", &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(out, "");
	ck_assert_msg(
	    !strncmp(text, "Usage: vmm-demo [--config FILE] [options]\n", 42),
	    "%s", text);
	ck_assert_ptr_nonnull(
	    strstr(text, "  --disk PATH[,ro][,serial=ID][,engine=auto|sync|"
			 "uring][,cache=on|off]\n"));
	ck_assert_ptr_nonnull(strstr(text, "--rng[=RATE]"));
	ck_assert_ptr_nonnull(strstr(text, "--console stdio|file:PATH|"
					   "socket:PATH|pty\n"));
	ck_assert_ptr_nonnull(strstr(text, "--disk, --console and --rng add "
					   "devices after the\nfile's "
					   "devices"));
	ck_assert_uint_eq(cfg.ndev, 0);
	ck_assert_ptr_null(cfg.kernel);
	free(text);
}
END_TEST

/* fail_eio / fail-eio=: an inclusive sector range; the last sector may
 * lie past the end, the first may not. --help names it. */
START_TEST(test_fail_eio)
{
	char p[PATH_MAX + 16], *text;
	int rc;
	FILE *f;

	snprintf(p, sizeof(p), "%s/big.img", tmp);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), 64 << 10), 0);
	fclose(f);
	put("vm.yaml",
	    "kernel: k\ndevices:\n  - type: blk\n    path: big.img\n"
	    "    fail_eio: 64-127\n  - type: blk\n    path: big.img\n");
	ASSERT_OK(RUN("--config", "@F"));
	ck_assert(cfg.dev[0].fail_eio);
	ck_assert_uint_eq(cfg.dev[0].eio_start, 64);
	ck_assert_uint_eq(cfg.dev[0].eio_end, 127);
	ck_assert(!cfg.dev[1].fail_eio);
	ASSERT_OK(RUN("--kernel", "@D/k", "--disk",
		      "@D/big.img,engine=sync,fail-eio=0x7f-1000"));
	ck_assert(cfg.dev[0].fail_eio);
	ck_assert_uint_eq(cfg.dev[0].eio_start, 127);
	ck_assert_uint_eq(cfg.dev[0].eio_end, 1000);
	ck_assert_int_eq(
	    RUN("--kernel", "@D/k", "--disk", "@D/big.img,fail-eio=128-128"),
	    2);
	assert_out("vmm-demo: --disk: sector 128 is past the end of "
		   "'@D/big.img' (128 sectors)\n");
	text = run_info("--help", &rc);
	ck_assert_int_eq(rc, 1);
	ck_assert_ptr_nonnull(strstr(text, "         [,fail-eio=START-END]\n"));
	free(text);
}
END_TEST

START_TEST(test_free)
{
	struct vmm_config z;

	memset(&z, 0, sizeof(z));
	vmm_config_free(&z);
	vmm_config_free(NULL);
	/* Half filled, as after a failure half way. */
	z.kernel = strdup("k");
	z.dev[3].path = strdup("p");
	z.dev[5].console_path = strdup("c");
	vmm_config_free(&z);
	ck_assert_ptr_null(z.kernel);
	ck_assert_ptr_null(z.dev[3].path);
	vmm_config_free(&z); /* twice: zeroed by the first */
	ASSERT_OK(RUN("--kernel", "@D/k", "--disk", "@D/disk,serial=s",
		      "--console", "file:x"));
	vmm_config_free(&cfg);
	ck_assert_ptr_null(cfg.kernel);
	ck_assert_uint_eq(cfg.ndev, 0);
	vmm_config_free(&cfg);
}
END_TEST

/* The repository's configs (default, testguest, example), copied with the
 * bundle files they name (empty here) into the test directory, load and
 * validate. */
static void repo_config(const char *name)
{
	static const char *const files[] = {
	    "build/guest/vmlinux",	"build/guest/initramfs.cpio.gz",
	    "build/guest/disk.ext4",	"build/testguest/testguest.elf",
	    "build/testguest/disk.img",
	};
	char src[PATH_MAX + 64], *text;

	snprintf(src, sizeof(src), "configs/%s", name);
	ck_assert_msg(access(src, R_OK) == 0,
		      "%s: %s (run from the repository root)", src,
		      strerror(errno));
	text = slurp(src);
	for (const char *d = "configs\0build\0build/guest\0build/testguest\0";
	     *d; d += strlen(d) + 1) {
		char p[PATH_MAX + 64];

		snprintf(p, sizeof(p), "%s/%s", tmp, d);
		mkdir(p, 0755);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "x");
	snprintf(src, sizeof(src), "configs/%s", name);
	put(src, text);
	free(text);
	snprintf(yaml, sizeof(yaml), "%s/configs/%s", tmp, name);
	ASSERT_OK(RUN("--config", "@F"));
}

START_TEST(test_repo_configs)
{
	repo_config("default.yaml");
	ck_assert_uint_eq(cfg.vcpus, 2);
	ck_assert_uint_eq(cfg.memory_mib, 512);
	assert_path(cfg.kernel, "@D/build/guest/vmlinux");
	assert_path(cfg.initrd, "@D/build/guest/initramfs.cpio.gz");
	ck_assert_str_eq(cfg.cmdline,
			 "console=ttyS0 earlyprintk=serial panic=-1");
	ck_assert_uint_eq(cfg.ndev, 3);
	ck_assert_int_eq(cfg.dev[0].kind, VMM_DEV_BLK);
	assert_path(cfg.dev[0].path, "@D/build/guest/disk.ext4");
	ck_assert_int_eq(cfg.dev[1].kind, VMM_DEV_CONSOLE);
	ck_assert_int_eq(cfg.dev[1].console, VMM_CONSOLE_STDIO);
	ck_assert_int_eq(cfg.dev[2].kind, VMM_DEV_RNG);

	repo_config("testguest.yaml");
	ck_assert_uint_eq(cfg.vcpus, 2);
	ck_assert_uint_eq(cfg.memory_mib, 64);
	assert_path(cfg.kernel, "@D/build/testguest/testguest.elf");
	ck_assert(cfg.cmdline_devices);
	ck_assert_uint_eq(cfg.ndev, 3);
	assert_path(cfg.dev[0].path, "@D/build/testguest/disk.img");
	ck_assert_int_eq(cfg.dev[1].console, VMM_CONSOLE_STDIO);
	ck_assert_int_eq(cfg.dev[2].kind, VMM_DEV_RNG);

	repo_config("example.yaml");
	ck_assert_uint_eq(cfg.ndev, 3);
	ck_assert_uint_eq(cfg.dev[0].addr, VMM_VIRTIO_BASE);
	ck_assert_uint_eq(cfg.dev[0].irq, VMM_VIRTIO_IRQ_BASE);
	ck_assert_int_eq(cfg.log_level, VMM_LOG_INFO);
	ck_assert(cfg.seccomp);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_flags_override);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_auto_assign);
	tcase_add_loop_test(tc, test_bad, 0,
			    (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, test_cmdline_length);
	tcase_add_test(tc, test_memory_host);
	tcase_add_test(tc, test_permissions);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_fail_eio);
	tcase_add_test(tc, test_free);
	tcase_add_test(tc, test_repo_configs);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* vmm-demo: configuration from a YAML file (libcyaml) and the command line. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyaml/cyaml.h>

#include "config.h"

#define VCPUS_MAX 64u
#define MEMORY_MIN_MIB 16u
#define MEMORY_MAX_MIB (1u << 20) /* 1 TiB */
#define DEFAULT_VCPUS 1u
#define DEFAULT_MEMORY_MIB 256u
#define CMDLINE_LEN_MAX 4095u
#define CONFIG_FILE_MAX (1u << 20)
/* A non-zero rng burst must hold one request (rng.h: burst >= max_request). */
#define RNG_BURST_MIN 4096u

#ifdef VMMIO_VERSION_STRING
#define VERSION_STRING VMMIO_VERSION_STRING
#else
#define STR_(x) #x
#define STR(x) STR_(x)
#define VERSION_STRING                                                         \
	STR(VMMIO_VERSION_MAJOR)                                               \
	"." STR(VMMIO_VERSION_MINOR) "." STR(VMMIO_VERSION_PATCH)
#endif

static const char *const log_names[] = {
    [VMM_LOG_ERROR] = "error",
    [VMM_LOG_WARN] = "warn",
    [VMM_LOG_INFO] = "info",
    [VMM_LOG_DEBUG] = "debug",
};
static const char *const engine_names[VMMIO_BLK_ENGINE__COUNT] = {
    [VMMIO_BLK_ENGINE_AUTO] = "auto",
    [VMMIO_BLK_ENGINE_SYNC] = "sync",
    [VMMIO_BLK_ENGINE_URING] = "uring",
};
static const char *const backend_names[] = {
    [VMM_CONSOLE_STDIO] = "stdio",
    [VMM_CONSOLE_FILE] = "file",
    [VMM_CONSOLE_SOCKET] = "socket",
    [VMM_CONSOLE_PTY] = "pty",
};
static const char *const kind_names[] = {
    [VMM_DEV_BLK] = "blk",
    [VMM_DEV_CONSOLE] = "console",
    [VMM_DEV_RNG] = "rng",
};
#define NAMES(a) (a), sizeof(a) / sizeof((a)[0])

/*
 * The file as libcyaml loads it: every scalar a string (parsed strictly
 * here: libcyaml 1.3.1 takes "2x" as 2 and "-1" as UINT64_MAX), NULL when
 * the key is absent.
 */
struct ydev {
	char *type;
	char *address;
	char *irq;
	char *path;
	char *read_only;
	char *serial;
	char *engine;
	char *cache;
	char *fail_eio;
	char *backend;
	char *rate;
	char *burst;
};

struct yfile {
	char *vcpus;
	char *memory;
	char *kernel;
	char *initrd;
	char *cmdline;
	char *seccomp;
	char *log_level;
	char *cmdline_devices;
	struct ydev *devices;
	unsigned devices_count;
};

#define YSTR(key, flags, type, member)                                         \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER | (flags), type,        \
			       member, 0, CYAML_UNLIMITED)
#define YOPT CYAML_FLAG_OPTIONAL

static const cyaml_schema_field_t ydev_fields[] = {
    YSTR("type", 0, struct ydev, type),
    YSTR("address", YOPT, struct ydev, address),
    YSTR("irq", YOPT, struct ydev, irq),
    YSTR("path", YOPT, struct ydev, path),
    YSTR("read_only", YOPT, struct ydev, read_only),
    YSTR("serial", YOPT, struct ydev, serial),
    YSTR("engine", YOPT, struct ydev, engine),
    YSTR("cache", YOPT, struct ydev, cache),
    YSTR("fail_eio", YOPT, struct ydev, fail_eio),
    YSTR("backend", YOPT, struct ydev, backend),
    YSTR("rate", YOPT, struct ydev, rate),
    YSTR("burst", YOPT, struct ydev, burst),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t ydev_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct ydev, ydev_fields),
};

static const cyaml_schema_field_t yfile_fields[] = {
    YSTR("vcpus", YOPT, struct yfile, vcpus),
    YSTR("memory", YOPT, struct yfile, memory),
    YSTR("kernel", YOPT, struct yfile, kernel),
    YSTR("initrd", YOPT, struct yfile, initrd),
    YSTR("cmdline", YOPT, struct yfile, cmdline),
    YSTR("seccomp", YOPT, struct yfile, seccomp),
    YSTR("log_level", YOPT, struct yfile, log_level),
    YSTR("cmdline_devices", YOPT, struct yfile, cmdline_devices),
    CYAML_FIELD_SEQUENCE("devices", CYAML_FLAG_POINTER_NULL | YOPT,
			 struct yfile, devices, &ydev_schema, 0,
			 VMM_VIRTIO_MAX),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t yfile_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct yfile, yfile_fields),
};

/* Which device kinds take each optional device key. */
#define K_BLK (1u << VMM_DEV_BLK)
#define K_CON (1u << VMM_DEV_CONSOLE)
#define K_RNG (1u << VMM_DEV_RNG)
static const struct {
	const char *key;
	size_t off;
	unsigned kinds;
} dev_keys[] = {
    {"path", offsetof(struct ydev, path), K_BLK | K_CON},
    {"read_only", offsetof(struct ydev, read_only), K_BLK},
    {"serial", offsetof(struct ydev, serial), K_BLK},
    {"engine", offsetof(struct ydev, engine), K_BLK},
    {"cache", offsetof(struct ydev, cache), K_BLK},
    {"fail_eio", offsetof(struct ydev, fail_eio), K_BLK},
    {"backend", offsetof(struct ydev, backend), K_CON},
    {"rate", offsetof(struct ydev, rate), K_RNG},
    {"burst", offsetof(struct ydev, burst), K_RNG},
};

/* Where a value came from: a flag, or devices[dev] (-1: top level) of
 * the file. */
struct where {
	const char *flag;
	int dev;
};

/* libcyaml's error report, captured from its log callback. */
struct cybt {
	char field[64]; /* mapping field, "" for a sequence entry */
	unsigned seq;	/* sequence entry, counted from 1 */
	unsigned line;
};

struct cylog {
	char msg[256];	    /* the first error line, "Load: " stripped */
	struct cybt bt[16]; /* backtrace, innermost first */
	unsigned nbt;
	bool in_bt;
};

struct ctx {
	FILE *err;
	struct vmm_config *cfg;
	const char *file; /* --config as given, for messages */
	char *text;	  /* its contents, for line numbers */
	char *file_dir;	  /* absolute directory of the file */
	char *cwd;
	struct where w_kernel, w_initrd;
	struct where w_dev[VMM_VIRTIO_MAX];
	bool addr_set[VMM_VIRTIO_MAX], irq_set[VMM_VIRTIO_MAX];
};

/* A value shown in a message: at most 60 bytes, printable ASCII only. */
struct shown {
	char s[68];
};

static struct shown show(const char *v)
{
	struct shown r;
	size_t i;

	for (i = 0; i < 60 && v[i]; i++)
		/* NOLINTNEXTLINE(bugprone-narrowing-conversions): char */
		r.s[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (v[i])
		memcpy(r.s + i, "...", 4);
	else
		r.s[i] = '\0';
	return r;
}

/* "key:" (spaces allowed before the colon) at @s, ending a key. */
static bool key_at(const char *s, const char *eol, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(eol - s) <= n || memcmp(s, key, n))
		return false;
	for (s += n; s < eol && *s == ' '; s++)
		;
	return s < eol && *s == ':' && (s + 1 == eol || s[1] == ' ');
}

/*
 * Line (from 1) of @key in devices[@dev] (@dev < 0: at the top level),
 * searched from line @from on; with @key NULL the entry's first line.
 * Block style only: 0 when not found (flow style, say).
 */
static unsigned locate(const char *text, int dev, const char *key,
		       unsigned from)
{
	bool in_devices = false;
	int entry = -1;
	unsigned line = 1;

	for (const char *p = text; p && *p; line++) {
		const char *eol = strchrnul(p, '\n'), *s = p;

		while (s < eol && *s == ' ')
			s++;
		if (s == eol || *s == '#') {
			/* blank or comment */
		} else if (s == p && *s != '-') {
			in_devices = key_at(s, eol, "devices");
			if (dev < 0 && key && line >= from &&
			    key_at(s, eol, key))
				return line;
		} else if (in_devices && dev >= 0) {
			if (*s == '-' && (s + 1 == eol || s[1] == ' ')) {
				if (++entry == dev && !key)
					return line;
				for (s++; s < eol && *s == ' '; s++)
					;
			}
			if (entry == dev && key && line >= from &&
			    key_at(s, eol, key))
				return line;
		}
		p = *eol ? eol + 1 : NULL;
	}
	return 0;
}

/* "vmm-demo: FILE[:LINE]: KEY: " or "vmm-demo: --FLAG: ". */
static void prefix(struct ctx *c, const struct where *w, const char *key,
		   unsigned line)
{
	fputs("vmm-demo: ", c->err);
	if (w->flag) {
		fprintf(c->err, "%s: ", w->flag);
		return;
	}
	if (!line && c->text)
		line = locate(c->text, w->dev, key, 1);
	fputs(c->file, c->err);
	if (line)
		fprintf(c->err, ":%u", line);
	if (w->dev >= 0)
		fprintf(c->err, ": devices[%d]%s%s", w->dev, key ? "." : "",
			key ? key : "");
	else if (key)
		fprintf(c->err, ": %s", key);
	fputs(": ", c->err);
}

/* One message about @key of @w (file, line, key or flag first); 2. */
__attribute__((format(printf, 4, 5))) static int
bad(struct ctx *c, const struct where *w, const char *key, const char *fmt, ...)
{
	va_list ap;

	prefix(c, w, key, 0);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	return 2;
}

__attribute__((format(printf, 2, 3))) static int plain(struct ctx *c,
						       const char *fmt, ...)
{
	va_list ap;

	fputs("vmm-demo: ", c->err);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	return 2;
}

static int nomem(struct ctx *c)
{
	return plain(c, "out of memory");
}

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* Decimal or 0x hex, digits only, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (base == 16 && isxdigit(ch))
			d = (unsigned)(tolower(ch) - 'a') + 10;
		else
			return -1;
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return -1;
	}
	*out = v;
	return 0;
}

static int get_u64(struct ctx *c, const struct where *w, const char *key,
		   const char *s, uint64_t *out)
{
	if (parse_u64(s, out))
		return bad(c, w, key, "'%s' is not a number", show(s).s);
	return 0;
}

static int get_bool(struct ctx *c, const struct where *w, const char *key,
		    const char *s, bool *out)
{
	static const char *const t[] = {"true", "yes", "on"};
	static const char *const f[] = {"false", "no", "off"};

	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, t[i]) || !strcasecmp(s, f[i])) {
			*out = !strcasecmp(s, t[i]);
			return 0;
		}
	}
	return bad(c, w, key, "'%s' is not a boolean (true or false)",
		   show(s).s);
}

/* MemTotal in MiB, 0 when /proc/meminfo does not say. */
static uint64_t host_mem_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		/* NOLINTNEXTLINE(cert-err34-c): the kernel's number */
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	(void)fclose(f);
	return kib / 1024;
}

static int set_vcpus(struct ctx *c, const struct where *w, const char *s)
{
	uint64_t v;

	if (get_u64(c, w, "vcpus", s, &v))
		return 2;
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (v < 1 || v > VCPUS_MAX)
		return bad(c, w, "vcpus", "%" PRIu64 " is not in 1..%u", v,
			   VCPUS_MAX);
	c->cfg->vcpus = (unsigned)v;
	return 0;
}

static int set_memory(struct ctx *c, const struct where *w, const char *s)
{
	uint64_t v, host = host_mem_mib();

	if (get_u64(c, w, "memory", s, &v))
		return 2;
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (v < MEMORY_MIN_MIB)
		return bad(c, w, "memory",
			   "%" PRIu64 " MiB is below the minimum of %u MiB", v,
			   MEMORY_MIN_MIB);
	if (v > MEMORY_MAX_MIB)
		return bad(c, w, "memory",
			   "%" PRIu64 " MiB is above the maximum of %u MiB "
			   "(1 TiB)",
			   v, MEMORY_MAX_MIB);
	if (host && v > host)
		return bad(c, w, "memory",
			   "%" PRIu64 " MiB is more than this host has "
			   "(MemTotal %" PRIu64 " MiB)",
			   v, host);
	c->cfg->memory_mib = v;
	return 0;
}

static int set_log_level(struct ctx *c, const struct where *w, const char *s)
{
	int l = lookup(NAMES(log_names), s);

	if (l < 0)
		return bad(c, w, "log_level",
			   "'%s' is not one of error|warn|info|debug",
			   show(s).s);
	c->cfg->log_level = (enum vmm_log_level)l;
	return 0;
}

static int set_cmdline(struct ctx *c, const struct where *w, const char *s)
{
	size_t n = strlen(s);
	char *dup;

	if (n > CMDLINE_LEN_MAX)
		return bad(c, w, "cmdline", "%zu bytes, at most %u", n,
			   CMDLINE_LEN_MAX);
	dup = strdup(s);
	if (!dup)
		return nomem(c);
	free(c->cfg->cmdline);
	c->cfg->cmdline = dup;
	return 0;
}

/* @p made absolute against @dir (canonical when it exists). */
static char *resolve(const char *dir, const char *p)
{
	char *joined, *real;
	size_t n = strlen(dir);

	if (p[0] == '/')
		joined = strdup(p);
	else if (asprintf(&joined, "%s%s%s", dir,
			  n && dir[n - 1] == '/' ? "" : "/", p) < 0)
		joined = NULL;
	if (!joined)
		return NULL;
	real = realpath(joined, NULL);
	if (!real)
		return joined;
	free(joined);
	return real;
}

static int set_path(struct ctx *c, const struct where *w, const char *key,
		    const char *s, char **dst)
{
	char *r;

	if (!*s)
		return bad(c, w, key, "empty path");
	r = resolve(w->flag ? c->cwd : c->file_dir, s);
	if (!r)
		return nomem(c);
	free(*dst);
	*dst = r;
	return 0;
}

/* A new device at the end of the list, from @w. */
static struct vmm_dev_cfg *add_dev(struct ctx *c, const struct where *w)
{
	struct vmm_config *cfg = c->cfg;

	if (cfg->ndev >= VMM_VIRTIO_MAX) {
		/* The file's list is bounded by its schema: only flags get
		 * here. */
		plain(c,
		      "%s: more than %u devices in all (the config file's "
		      "and the flags')",
		      w->flag ? w->flag : "devices", VMM_VIRTIO_MAX);
		return NULL;
	}
	c->w_dev[cfg->ndev] = *w;
	return &cfg->dev[cfg->ndev++];
}

static int set_address(struct ctx *c, const struct where *w, const char *s,
		       unsigned i)
{
	uint64_t a;

	if (get_u64(c, w, "address", s, &a))
		return 2;
	if (a % VMM_VIRTIO_SIZE)
		return bad(c, w, "address", "0x%" PRIx64 " is not 0x%x-aligned",
			   a, VMM_VIRTIO_SIZE);
	if (a < VMM_VIRTIO_BASE || a >= VMM_IOAPIC_ADDR)
		return bad(c, w, "address",
			   "0x%" PRIx64 " is outside the virtio-mmio range "
			   "0x%x..0x%x",
			   a, VMM_VIRTIO_BASE, VMM_IOAPIC_ADDR - 1);
	c->cfg->dev[i].addr = a;
	c->addr_set[i] = true;
	return 0;
}

static int set_irq(struct ctx *c, const struct where *w, const char *s,
		   unsigned i)
{
	uint64_t v;

	if (get_u64(c, w, "irq", s, &v))
		return 2;
	if (v < VMM_VIRTIO_IRQ_BASE ||
	    v >= VMM_VIRTIO_IRQ_BASE + VMM_VIRTIO_MAX)
		return bad(c, w, "irq", "%" PRIu64 " is not in %u..%u", v,
			   VMM_VIRTIO_IRQ_BASE,
			   VMM_VIRTIO_IRQ_BASE + VMM_VIRTIO_MAX - 1);
	c->cfg->dev[i].irq = (uint32_t)v;
	c->irq_set[i] = true;
	return 0;
}

/* cache: on (host page cache) or off (O_DIRECT). */
static int set_cache(struct ctx *c, const struct where *w, const char *s,
		     struct vmm_dev_cfg *d)
{
	if (!strcmp(s, "on"))
		d->direct = false;
	else if (!strcmp(s, "off"))
		d->direct = true;
	else
		return bad(c, w, "cache", "'%s' is not one of on|off",
			   show(s).s);
	return 0;
}

static int set_engine(struct ctx *c, const struct where *w, const char *s,
		      struct vmm_dev_cfg *d)
{
	int e = lookup(NAMES(engine_names), s);

	if (e < 0)
		return bad(c, w, "engine", "'%s' is not one of auto|sync|uring",
			   show(s).s);
	d->engine = (enum vmmio_blk_engine)e;
	return 0;
}

static int set_serial(struct ctx *c, const struct where *w, const char *s,
		      struct vmm_dev_cfg *d)
{
	char *dup;

	if (strlen(s) > VMMIO_BLK_ID_BYTES)
		return bad(c, w, "serial", "'%s' is longer than %u bytes",
			   show(s).s, VMMIO_BLK_ID_BYTES);
	dup = strdup(s);
	if (!dup)
		return nomem(c);
	free(d->serial);
	d->serial = dup;
	return 0;
}

/* fail_eio (testing): START-END, sectors, inclusive. */
static int set_fail_eio(struct ctx *c, const struct where *w, const char *s,
			struct vmm_dev_cfg *d)
{
	const char *dash = strchr(s, '-');
	char first[32];
	size_t n = dash ? (size_t)(dash - s) : 0;

	if (!dash || n >= sizeof(first))
		goto bad_range;
	memcpy(first, s, n);
	first[n] = '\0';
	if (parse_u64(first, &d->eio_start) || parse_u64(dash + 1, &d->eio_end))
		goto bad_range;
	if (d->eio_start > d->eio_end)
		return bad(c, w, "fail_eio", "'%s': START is after END",
			   show(s).s);
	d->fail_eio = true;
	return 0;
bad_range:
	return bad(c, w, "fail_eio", "'%s' is not a sector range START-END",
		   show(s).s);
}

static int set_burst(struct ctx *c, const struct where *w, const char *s,
		     struct vmm_dev_cfg *d)
{
	if (get_u64(c, w, "burst", s, &d->burst))
		return 2;
	if (d->burst && d->burst < RNG_BURST_MIN)
		return bad(c, w, "burst",
			   "%" PRIu64 " bytes is less than one request (%u); "
			   "0 picks the default",
			   d->burst, RNG_BURST_MIN);
	return 0;
}

/* ---- the file ---- */

static int file_blk(struct ctx *c, const struct where *w, const struct ydev *y,
		    struct vmm_dev_cfg *d)
{
	if (!y->path)
		return bad(c, w, NULL,
			   "missing key 'path' (required for type blk)");
	if (set_path(c, w, "path", y->path, &d->path))
		return 2;
	if (y->read_only &&
	    get_bool(c, w, "read_only", y->read_only, &d->read_only))
		return 2;
	if (y->serial && set_serial(c, w, y->serial, d))
		return 2;
	if (y->engine && set_engine(c, w, y->engine, d))
		return 2;
	if (y->cache && set_cache(c, w, y->cache, d))
		return 2;
	if (y->fail_eio && set_fail_eio(c, w, y->fail_eio, d))
		return 2;
	return 0;
}

static int file_console(struct ctx *c, const struct where *w,
			const struct ydev *y, struct vmm_dev_cfg *d)
{
	int b = VMM_CONSOLE_STDIO;

	if (y->backend) {
		b = lookup(NAMES(backend_names), y->backend);
		if (b < 0)
			return bad(c, w, "backend",
				   "'%s' is not one of stdio|file|socket|pty",
				   show(y->backend).s);
	}
	d->console = (enum vmm_console_kind)b;
	if (b == VMM_CONSOLE_FILE || b == VMM_CONSOLE_SOCKET) {
		if (!y->path)
			return bad(c, w, "backend", "'%s' needs a path",
				   backend_names[b]);
		return set_path(c, w, "path", y->path, &d->console_path);
	}
	if (y->path)
		return bad(c, w, "path",
			   "applies only to backend file or socket, not '%s'",
			   backend_names[b]);
	return 0;
}

static int file_rng(struct ctx *c, const struct where *w, const struct ydev *y,
		    struct vmm_dev_cfg *d)
{
	if (y->rate && get_u64(c, w, "rate", y->rate, &d->rate))
		return 2;
	if (y->burst && set_burst(c, w, y->burst, d))
		return 2;
	return 0;
}

static int file_dev(struct ctx *c, const struct ydev *y, int i)
{
	struct where w = {NULL, i};
	struct vmm_dev_cfg *d;
	int kind = lookup(NAMES(kind_names), y->type);

	if (kind < 0)
		return bad(c, &w, "type", "'%s' is not one of blk|console|rng",
			   show(y->type).s);
	for (size_t k = 0; k < sizeof(dev_keys) / sizeof(dev_keys[0]); k++) {
		const char *v =
		    *(char *const *)((const char *)y + dev_keys[k].off);

		if (v && !(dev_keys[k].kinds & (1u << kind)))
			return bad(c, &w, dev_keys[k].key,
				   "does not apply to type %s",
				   kind_names[kind]);
	}
	d = add_dev(c, &w);
	if (!d)
		return 2;
	d->kind = (enum vmm_dev_kind)kind;
	if (y->address && set_address(c, &w, y->address, (unsigned)i))
		return 2;
	if (y->irq && set_irq(c, &w, y->irq, (unsigned)i))
		return 2;
	switch (d->kind) {
	case VMM_DEV_BLK:
		return file_blk(c, &w, y, d);
	case VMM_DEV_CONSOLE:
		return file_console(c, &w, y, d);
	case VMM_DEV_RNG:
		return file_rng(c, &w, y, d);
	}
	return 0;
}

static int file_top(struct ctx *c, const struct yfile *y)
{
	struct where w = {NULL, -1};
	struct vmm_config *cfg = c->cfg;

	if ((y->vcpus && set_vcpus(c, &w, y->vcpus)) ||
	    (y->memory && set_memory(c, &w, y->memory)) ||
	    (y->kernel && set_path(c, &w, "kernel", y->kernel, &cfg->kernel)) ||
	    (y->initrd && set_path(c, &w, "initrd", y->initrd, &cfg->initrd)) ||
	    (y->cmdline && set_cmdline(c, &w, y->cmdline)) ||
	    (y->seccomp &&
	     get_bool(c, &w, "seccomp", y->seccomp, &cfg->seccomp)) ||
	    (y->log_level && set_log_level(c, &w, y->log_level)) ||
	    (y->cmdline_devices &&
	     get_bool(c, &w, "cmdline_devices", y->cmdline_devices,
		      &cfg->cmdline_devices)))
		return 2;
	for (unsigned i = 0; i < y->devices_count; i++)
		if (file_dev(c, &y->devices[i], (int)i))
			return 2;
	return 0;
}

__attribute__((format(printf, 3, 0))) static void
cy_log(cyaml_log_t level, void *opaque, const char *fmt, va_list ap)
{
	struct cylog *l = opaque;
	char line[320], *nl;
	unsigned a = 0, b;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (!strcmp(line, "Load: Backtrace:")) {
		l->in_bt = true;
	} else if (l->in_bt && l->nbt < sizeof(l->bt) / sizeof(l->bt[0])) {
		struct cybt *e = &l->bt[l->nbt];

		memset(e, 0, sizeof(*e));
		/* NOLINTBEGIN(cert-err34-c): libcyaml's own numbers */
		if (sscanf(line, "  in mapping field '%63[^']' (line: %u",
			   e->field, &e->line) == 2 ||
		    sscanf(line, "  in sequence entry '%u' (line: %u", &e->seq,
			   &e->line) == 2 ||
		    sscanf(line, "  in mapping (line: %u, column: %u", &a,
			   &b) == 2) {
			/* NOLINTEND(cert-err34-c) */
			if (!e->line && !e->seq)
				e->line = a;
			l->nbt++;
		}
	} else if (!l->msg[0]) {
		snprintf(l->msg, sizeof(l->msg), "%.255s",
			 strncmp(line, "Load: ", 6) ? line : line + 6);
	}
}

/* libcyaml's type and event names in words. */
static const char *yaml_kind(const char *s)
{
	static const char *const map[][2] = {
	    {"STRING", "a scalar"},
	    {"SCALAR", "a scalar"},
	    {"SEQUENCE", "a list"},
	    {"SEQUENCE_START", "a list"},
	    {"MAPPING", "a mapping"},
	    {"MAPPING_START", "a mapping"},
	    {"ALIAS", "an alias"},
	    {"DOC_END", "the end"},
	    {"SEQUENCE_END", "the list end"},
	    {"MAPPING_END", "the mapping end"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(s, map[i][0]))
			return map[i][1];
	return s;
}

/* The key path of libcyaml's backtrace, as "devices[1].engine". */
static void bt_path(const struct cylog *l, bool drop_inner, char *out,
		    size_t len, int *dev)
{
	size_t n = 0;
	unsigned stop = drop_inner && l->nbt && l->bt[0].field[0] ? 1 : 0;

	out[0] = '\0';
	*dev = -1;
	for (unsigned i = l->nbt; i-- > stop && n < len;) {
		if (l->bt[i].field[0])
			n += (size_t)snprintf(out + n, len - n, "%s%s",
					      n ? "." : "", l->bt[i].field);
		else if (l->bt[i].seq) {
			n += (size_t)snprintf(out + n, len - n, "[%u]",
					      l->bt[i].seq - 1);
			if (*dev < 0) /* the only list: devices */
				*dev = (int)l->bt[i].seq - 1;
		}
	}
}

static int cyaml_failed(struct ctx *c, const struct cylog *l, cyaml_err_t e)
{
	char path[160], key[64], got[32], want[32];
	unsigned line = l->nbt ? l->bt[0].line : 0;
	int dev;
	bool missing = !strncmp(l->msg, "Missing required mapping field: ", 32);
	bool twice = !strncmp(l->msg, "Mapping field already seen: ", 28);

	bt_path(l, missing || twice, path, sizeof(path), &dev);
	fprintf(c->err, "vmm-demo: %s", c->file);
	if (sscanf(l->msg, "Unexpected key: %63s", key) == 1 || twice) {
		if (twice)
			snprintf(key, sizeof(key), "%s", l->msg + 28);
		/* libcyaml's line is the value before the key (or the
		 * mapping's start): look further for the key. */
		unsigned at = locate(c->text, dev, key, line + twice);

		line = at ? at : line;
		fprintf(c->err, ":%u: %s%s%s: %s\n", line, path,
			path[0] ? "." : "", show(key).s,
			twice ? "given twice" : "unknown key");
	} else if (missing) {
		line = dev >= 0 ? locate(c->text, dev, NULL, 1) : 0;
		if (line)
			fprintf(c->err, ":%u", line);
		fprintf(c->err, ": %s%smissing key '%s'\n", path,
			path[0] ? ": " : "", show(l->msg + 32).s);
	} else if (sscanf(l->msg, "Expecting %31s got event: %31s", want,
			  got) == 2) {
		want[strcspn(want, ",")] = '\0';
		if (line)
			fprintf(c->err, ":%u", line);
		fprintf(c->err, ": %s%sexpected %s, found %s\n", path,
			path[0] ? ": " : "", yaml_kind(want), yaml_kind(got));
	} else if (!strncmp(l->msg, "Excessive entries", 17)) {
		fprintf(c->err, ":%u: devices: more than %u devices\n", line,
			VMM_VIRTIO_MAX);
	} else if (!strncmp(l->msg, "libyaml: ", 9)) {
		fprintf(c->err, ": YAML syntax error: %s", show(l->msg + 9).s);
		fprintf(c->err, line ? " (after line %u)\n" : "\n", line);
	} else {
		if (line)
			fprintf(c->err, ":%u", line);
		fprintf(c->err, ": %s%s%s\n", path, path[0] ? ": " : "",
			e == CYAML_ERR_ALIAS ? "YAML aliases are not supported"
			: l->msg[0]	     ? show(l->msg).s
					     : cyaml_strerror(e));
	}
	return 2;
}

/* The whole file into c->text (NUL-terminated), at most 1 MiB. */
static int read_text(struct ctx *c, const char *file, size_t *len)
{
	FILE *f = fopen(file, "re");
	size_t n;

	if (!f)
		return plain(c, "--config: '%s': %s", show(file).s,
			     strerror(errno));
	c->text = malloc(CONFIG_FILE_MAX + 1);
	if (!c->text) {
		(void)fclose(f);
		return nomem(c);
	}
	n = fread(c->text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		int e = errno;

		(void)fclose(f);
		return plain(c, "--config: '%s': %s", show(file).s,
			     strerror(e));
	}
	(void)fclose(f);
	if (n > CONFIG_FILE_MAX)
		return plain(c, "--config: '%s': larger than %u bytes",
			     show(file).s, CONFIG_FILE_MAX);
	c->text[n] = '\0';
	*len = n;
	return 0;
}

static int load_file(struct ctx *c, const char *file)
{
	struct cylog log = {0};
	const cyaml_config_t ycfg = {
	    .log_fn = cy_log,
	    .log_ctx = &log,
	    .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_ERROR,
	    .flags = CYAML_CFG_NO_ALIAS,
	};
	struct yfile *y = NULL;
	size_t len = 0;
	cyaml_err_t e;
	int rc;
	char *slash;

	c->file = file;
	if (read_text(c, file, &len))
		return 2;
	c->cfg->config_path = resolve(c->cwd, file);
	c->file_dir = c->cfg->config_path ? strdup(c->cfg->config_path) : NULL;
	if (!c->file_dir)
		return nomem(c);
	slash = strrchr(c->file_dir, '/');
	slash[slash == c->file_dir ? 1 : 0] = '\0';
	e = cyaml_load_data((const uint8_t *)c->text, len, &ycfg, &yfile_schema,
			    (cyaml_data_t **)&y, NULL);
	if (e != CYAML_OK)
		return cyaml_failed(c, &log, e);
	if (!y)
		return plain(c,
			     "%s: empty, expected a mapping with at least "
			     "'kernel'",
			     file);
	rc = file_top(c, y);
	cyaml_free(&ycfg, &yfile_schema, y, 0);
	return rc;
}

/* ---- the command line ---- */

enum {
	OPT_CONFIG = 256,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_DISK,
	OPT_CONSOLE,
	OPT_RNG,
	OPT_VCPUS,
	OPT_MEMORY,
	OPT_CMDLINE_DEVICES,
	OPT_NO_SECCOMP,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"disk", required_argument, NULL, OPT_DISK},
    {"console", required_argument, NULL, OPT_CONSOLE},
    {"rng", optional_argument, NULL, OPT_RNG},
    {"vcpus", required_argument, NULL, OPT_VCPUS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"cmdline-devices", no_argument, NULL, OPT_CMDLINE_DEVICES},
    {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char help_text[] =
    "Usage: vmm-demo [--config FILE] [options]\n"
    "Run one KVM microVM with virtio-mmio devices.\n"
    "\n"
    "  --config FILE         the microVM as YAML (see configs/example.yaml)\n"
    "  --kernel K            kernel: bzImage or ELF vmlinux\n"
    "  --initrd I            initial ramdisk\n"
    "  --cmdline S           kernel command line (at most 4095 bytes)\n"
    "  --disk PATH[,ro][,serial=ID][,engine=auto|sync|uring][,cache=on|off]\n"
    "         [,fail-eio=START-END]\n"
    "                        add a virtio-blk disk (repeatable); fail-eio\n"
    "                        (testing) fails every request touching sectors\n"
    "                        START..END with EIO\n"
    "  --console stdio|file:PATH|socket:PATH|pty\n"
    "                        add a virtio-console (repeatable)\n"
    "  --rng[=RATE]          add a virtio-rng, RATE bytes/s (default: no "
    "limit)\n"
    "  --vcpus N             vCPUs, 1..64 (default 1)\n"
    "  --memory MiB          guest RAM, 16 MiB up to the host's (default "
    "256)\n"
    "  --cmdline-devices     also list the devices as virtio_mmio.device=\n"
    "                        on the kernel command line\n"
    "  --no-seccomp          no seccomp sandbox (debugging)\n"
    "  --log-level L         error|warn|info|debug (default info)\n"
    "  --help                this text\n"
    "  --version             the version\n"
    "\n"
    "The file is read first, wherever --config stands; the other flags then\n"
    "override its values. --disk, --console and --rng add devices after the\n"
    "file's devices (at most 8 in all). Relative paths in the file are taken\n"
    "from the file's directory, on the command line from the current one.\n"
    "Exit status: 0 after a guest poweroff or reboot, 2 for a bad flag or\n"
    "config value (nothing started), non-zero for any other failure.\n";

struct opt {
	int code;
	char *arg;
};

static int flag_disk_opt(struct ctx *c, const struct where *w, char *o,
			 const char *spec, struct vmm_dev_cfg *d)
{
	if (!*o)
		return bad(c, w, NULL, "empty option in '%s'", show(spec).s);
	if (!strcmp(o, "ro"))
		d->read_only = true;
	else if (!strncmp(o, "serial=", 7))
		return o[7] ? set_serial(c, w, o + 7, d)
			    : bad(c, w, NULL, "empty serial= in '%s'",
				  show(spec).s);
	else if (!strncmp(o, "engine=", 7))
		return set_engine(c, w, o + 7, d);
	else if (!strncmp(o, "cache=", 6))
		return set_cache(c, w, o + 6, d);
	else if (!strncmp(o, "fail-eio=", 9))
		return set_fail_eio(c, w, o + 9, d);
	else
		return bad(c, w, NULL,
			   "unknown option '%s' in '%s' (ro, serial=ID, "
			   "engine=auto|sync|uring, cache=on|off, "
			   "fail-eio=START-END)",
			   show(o).s, show(spec).s);
	return 0;
}

static int flag_disk(struct ctx *c, const char *spec)
{
	static const struct where w = {"--disk", -1};
	struct vmm_dev_cfg *d;
	char *s = strdup(spec), *o;
	int rc = 2;

	if (!s)
		return nomem(c);
	o = strchr(s, ',');
	if (o)
		*o++ = '\0';
	if (!s[0]) {
		bad(c, &w, NULL, "no path in '%s'", show(spec).s);
		goto out_free;
	}
	d = add_dev(c, &w);
	if (!d)
		goto out_free;
	d->kind = VMM_DEV_BLK;
	if (set_path(c, &w, "path", s, &d->path))
		goto out_free;
	while (o) {
		char *next = strchr(o, ',');

		if (next)
			*next++ = '\0';
		if (flag_disk_opt(c, &w, o, spec, d))
			goto out_free;
		o = next;
	}
	rc = 0;
out_free:
	free(s);
	return rc;
}

static int flag_console(struct ctx *c, const char *spec)
{
	static const struct where w = {"--console", -1};
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	struct vmm_dev_cfg *d;
	int b = -1;

	if (!*spec)
		return bad(c, &w, NULL,
			   "empty spec (stdio, file:PATH, socket:PATH or pty)");
	for (int i = 0; i < (int)(sizeof(backend_names) / sizeof(char *)); i++)
		if (strlen(backend_names[i]) == n &&
		    !strncmp(spec, backend_names[i], n))
			b = i;
	if (b < 0 ||
	    (colon && b != VMM_CONSOLE_FILE && b != VMM_CONSOLE_SOCKET))
		return bad(c, &w, NULL,
			   "'%s' is not stdio, file:PATH, socket:PATH or pty",
			   show(spec).s);
	if ((b == VMM_CONSOLE_FILE || b == VMM_CONSOLE_SOCKET) &&
	    (!colon || !colon[1]))
		return bad(c, &w, NULL, "'%s' needs a path: %s:PATH",
			   show(spec).s, backend_names[b]);
	d = add_dev(c, &w);
	if (!d)
		return 2;
	d->kind = VMM_DEV_CONSOLE;
	d->console = (enum vmm_console_kind)b;
	if (colon)
		return set_path(c, &w, "path", colon + 1, &d->console_path);
	return 0;
}

static int flag_rng(struct ctx *c, const char *arg)
{
	static const struct where w = {"--rng", -1};
	struct vmm_dev_cfg *d;
	uint64_t rate = 0;

	if (arg && get_u64(c, &w, NULL, arg, &rate))
		return 2;
	d = add_dev(c, &w);
	if (!d)
		return 2;
	d->kind = VMM_DEV_RNG;
	d->rate = rate;
	return 0;
}

static int apply_flag(struct ctx *c, const struct opt *o)
{
	switch (o->code) {
	case OPT_KERNEL:
		c->w_kernel = (struct where){"--kernel", -1};
		return set_path(c, &c->w_kernel, "kernel", o->arg,
				&c->cfg->kernel);
	case OPT_INITRD:
		c->w_initrd = (struct where){"--initrd", -1};
		return set_path(c, &c->w_initrd, "initrd", o->arg,
				&c->cfg->initrd);
	case OPT_CMDLINE:
		return set_cmdline(c, &(struct where){"--cmdline", -1}, o->arg);
	case OPT_DISK:
		return flag_disk(c, o->arg);
	case OPT_CONSOLE:
		return flag_console(c, o->arg);
	case OPT_RNG:
		return flag_rng(c, o->arg);
	case OPT_VCPUS:
		return set_vcpus(c, &(struct where){"--vcpus", -1}, o->arg);
	case OPT_MEMORY:
		return set_memory(c, &(struct where){"--memory", -1}, o->arg);
	case OPT_LOG_LEVEL:
		return set_log_level(c, &(struct where){"--log-level", -1},
				     o->arg);
	case OPT_CMDLINE_DEVICES:
		c->cfg->cmdline_devices = true;
		return 0;
	case OPT_NO_SECCOMP:
		c->cfg->seccomp = false;
		return 0;
	}
	return 0;
}

/* ---- checks across values; addresses and irqs ---- */

static void dev_name(const struct ctx *c, unsigned j, char *buf, size_t len)
{
	if (c->w_dev[j].flag)
		snprintf(buf, len, "the %s device", c->w_dev[j].flag);
	else
		snprintf(buf, len, "devices[%d]", c->w_dev[j].dev);
}

/* @path is a regular file (or with @blk a block device) we can read, and
 * write with @write. */
static int check_file(struct ctx *c, const struct where *w, const char *key,
		      const char *path, bool write, bool blk)
{
	const int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd = open(path, O_RDONLY | flags);
	struct stat st;
	int e = errno;

	if (fd >= 0 && fstat(fd, &st))
		e = errno;
	else if (fd >= 0)
		e = 0;
	if (fd >= 0)
		close(fd);
	if (e)
		return bad(c, w, key, "'%s': %s", show(path).s, strerror(e));
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	if (!S_ISREG(st.st_mode) && !(blk && S_ISBLK(st.st_mode)))
		return bad(c, w, key, "'%s': not a regular file%s",
			   show(path).s, blk ? " or block device" : "");
	if (!write)
		return 0;
	fd = open(path, O_RDWR | flags);
	if (fd < 0)
		return bad(c, w, key, "'%s': cannot open for writing: %s (%s)",
			   show(path).s, strerror(errno),
			   w->flag ? "add ,ro" : "set read_only: true");
	close(fd);
	return 0;
}

/* A fail_eio range must start inside a regular file's image. */
static int check_eio_range(struct ctx *c, const struct where *w,
			   const struct vmm_dev_cfg *d)
{
	struct stat st;
	uint64_t sectors;

	if (!d->fail_eio || stat(d->path, &st) || !S_ISREG(st.st_mode))
		return 0;
	sectors = (uint64_t)st.st_size / 512;
	if (d->eio_start >= sectors)
		return bad(c, w, "fail_eio",
			   "sector %" PRIu64
			   " is past the end of '%s' (%" PRIu64 " sectors)",
			   d->eio_start, show(d->path).s, sectors);
	return 0;
}

static int check_dev(struct ctx *c, unsigned i)
{
	const struct vmm_dev_cfg *d = &c->cfg->dev[i];
	const struct where *w = &c->w_dev[i];
	char other[48];

	if (d->kind == VMM_DEV_BLK &&
	    check_file(c, w, "path", d->path, !d->read_only, true))
		return 2;
	if (d->kind == VMM_DEV_BLK && check_eio_range(c, w, d))
		return 2;
	for (unsigned j = 0; j < i; j++) {
		const struct vmm_dev_cfg *e = &c->cfg->dev[j];

		dev_name(c, j, other, sizeof(other));
		if (c->addr_set[i] && c->addr_set[j] && d->addr == e->addr)
			return bad(c, w, "address",
				   "window 0x%" PRIx64 " is also %s's", d->addr,
				   other);
		if (c->irq_set[i] && c->irq_set[j] && d->irq == e->irq)
			return bad(c, w, "irq", "%u is also %s's", d->irq,
				   other);
		if (d->kind == VMM_DEV_CONSOLE && e->kind == VMM_DEV_CONSOLE &&
		    d->console == VMM_CONSOLE_STDIO &&
		    e->console == VMM_CONSOLE_STDIO)
			return bad(c, w, "backend",
				   "a second console on stdio (%s has it)",
				   other);
	}
	return 0;
}

static bool addr_used(const struct ctx *c, uint64_t a)
{
	for (unsigned j = 0; j < c->cfg->ndev; j++)
		if (c->addr_set[j] && c->cfg->dev[j].addr == a)
			return true;
	return false;
}

static bool irq_used(const struct ctx *c, uint32_t irq)
{
	for (unsigned j = 0; j < c->cfg->ndev; j++)
		if (c->irq_set[j] && c->cfg->dev[j].irq == irq)
			return true;
	return false;
}

/* Devices without address/irq get the first free ones, in list order.
 * At most VMM_VIRTIO_MAX devices, so both searches end within it. */
static void assign(struct ctx *c)
{
	struct vmm_config *cfg = c->cfg;

	for (unsigned i = 0; i < cfg->ndev; i++) {
		uint64_t a = VMM_VIRTIO_BASE;
		uint32_t irq = VMM_VIRTIO_IRQ_BASE;

		if (!c->addr_set[i]) {
			while (addr_used(c, a))
				a += VMM_VIRTIO_SIZE;
			cfg->dev[i].addr = a;
			c->addr_set[i] = true;
		}
		if (!c->irq_set[i]) {
			while (irq_used(c, irq))
				irq++;
			cfg->dev[i].irq = irq;
			c->irq_set[i] = true;
		}
	}
}

static int finish(struct ctx *c)
{
	struct vmm_config *cfg = c->cfg;

	if (!cfg->kernel && c->file)
		return plain(c,
			     "%s: kernel: missing (give it in the file or "
			     "with --kernel)",
			     c->file);
	if (!cfg->kernel)
		return plain(c, "no kernel: give --kernel K or --config FILE");
	if (check_file(c, &c->w_kernel, "kernel", cfg->kernel, false, false))
		return 2;
	if (cfg->initrd &&
	    check_file(c, &c->w_initrd, "initrd", cfg->initrd, false, false))
		return 2;
	for (unsigned i = 0; i < cfg->ndev; i++)
		if (check_dev(c, i))
			return 2;
	assign(c);
	return 0;
}

/* Pass 1: every flag into @opts (--config apart), syntax errors out. */
static int collect(struct ctx *c, int argc, char **argv, struct opt *opts,
		   int *nopts, const char **config, int *info)
{
	int code;

	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
	while ((code = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (code == '?')
			return plain(c, "bad option '%s' (see --help)",
				     show(argv[optind - 1]).s);
		if (code == ':')
			return plain(c, "%s needs a value",
				     show(argv[optind - 1]).s);
		if (code == OPT_HELP || code == OPT_VERSION) {
			if (!*info)
				*info = code;
		} else if (code == OPT_CONFIG && *config) {
			return plain(c, "--config: given twice ('%s', '%s')",
				     show(*config).s, show(optarg).s);
		} else if (code == OPT_CONFIG) {
			*config = optarg;
		} else {
			opts[*nopts].code = code;
			opts[(*nopts)++].arg = optarg;
		}
	}
	if (optind < argc)
		return plain(c, "unexpected argument '%s' (see --help)",
			     show(argv[optind]).s);
	return 0;
}

static void defaults(struct vmm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vcpus = DEFAULT_VCPUS;
	cfg->memory_mib = DEFAULT_MEMORY_MIB;
	cfg->seccomp = true;
	cfg->log_level = VMM_LOG_INFO;
}

int vmm_config_from_args(int argc, char **argv, struct vmm_config *cfg,
			 FILE *err)
{
	struct ctx c = {
	    .err = err,
	    .cfg = cfg,
	    .w_kernel = {NULL, -1},
	    .w_initrd = {NULL, -1},
	};
	struct opt *opts = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*opts));
	const char *config = NULL;
	int nopts = 0, info = 0, rc;

	defaults(cfg);
	c.cwd = get_current_dir_name();
	if (!opts)
		rc = nomem(&c);
	else if (!c.cwd)
		rc = plain(&c, "the current directory: %s", strerror(errno));
	else
		rc = collect(&c, argc, argv, opts, &nopts, &config, &info);
	if (rc)
		goto out;
	if (info) {
		fputs(info == OPT_HELP ? help_text
				       : "vmm-demo " VERSION_STRING "\n",
		      stdout);
		rc = 1;
		goto out;
	}
	if (config)
		rc = load_file(&c, config);
	for (int i = 0; !rc && i < nopts; i++)
		rc = apply_flag(&c, &opts[i]);
	if (!rc)
		rc = finish(&c);
out:
	free(opts);
	free(c.cwd);
	free(c.text);
	free(c.file_dir);
	if (rc)
		vmm_config_free(cfg);
	return rc;
}

void vmm_config_free(struct vmm_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	free(cfg->config_path);
	/* Every entry, not just ndev: a half-filled cfg is zeroed beyond. */
	for (unsigned i = 0; i < VMM_VIRTIO_MAX; i++) {
		free(cfg->dev[i].path);
		free(cfg->dev[i].serial);
		free(cfg->dev[i].console_path);
	}
	memset(cfg, 0, sizeof(*cfg));
}

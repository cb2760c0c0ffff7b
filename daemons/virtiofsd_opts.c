/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd's command line (see virtiofsd_opts.h). One table for the shared parser in
 * common.c: "--name" rows are the Rust virtiofsd's flags, bare rows its -o compatibility
 * options (QEMU's C virtiofsd, libvirt before it learnt "separate-options").
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fuse_backend/server.h>

#include "virtiofsd_opts.h"

static void note_ignored(struct fb_vfsd_opts *v, const char *name)
{
	for (int i = 0; i < v->nignored; i++)
		if (strcmp(v->ignored[i], name) == 0)
			return;
	if (v->nignored < FB_VFSD_IGNORED_MAX)
		v->ignored[v->nignored++] = name;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long x;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

static const struct {
	const char *name;
	enum fb_idmap_kind kind;
	int nums; /* numbers after the kind */
	const char *form;
} idmap_kinds[] = {
	{"guest", FB_IDMAP_GUEST, 3, "guest:GUEST_BASE:HOST_BASE:COUNT"},
	{"host", FB_IDMAP_HOST, 3, "host:HOST_BASE:GUEST_BASE:COUNT"},
	{"squash-guest", FB_IDMAP_SQUASH_GUEST, 3, "squash-guest:GUEST_BASE:HOST:COUNT"},
	{"squash-host", FB_IDMAP_SQUASH_HOST, 3, "squash-host:HOST_BASE:GUEST:COUNT"},
	{"forbid-guest", FB_IDMAP_FORBID_GUEST, 2, "forbid-guest:GUEST_BASE:COUNT"},
	{"map", FB_IDMAP_MAP, 3, "map:GUEST_BASE:HOST_BASE:COUNT"},
};

#define IDMAP_KINDS (sizeof(idmap_kinds) / sizeof(idmap_kinds[0]))

static int kind_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* One decimal u32 field of length @len at @p ('+' allowed in front, as Rust's parser does). */
static int idmap_num(const char *p, size_t len, uint32_t *out)
{
	uint64_t x = 0;
	size_t i = 0;

	if (len && p[0] == '+')
		i = 1;
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(p[i] - '0');
		if (x > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)x;
	return 0;
}

int fb_vfsd_idmap_parse(const char *s, struct fb_idmap_range *out, char *err, size_t errlen)
{
	struct fb_idmap_range m = {0};
	uint32_t num[3];
	const char *p, *q;
	size_t klen, k;
	int n = 0;
	char sep;

	if (err && errlen)
		err[0] = '\0';
	if (!s)
		return -EINVAL;
	for (klen = 0; s[klen] && kind_char(s[klen]); klen++)
		;
	for (k = 0; k < IDMAP_KINDS; k++)
		if (strlen(idmap_kinds[k].name) == klen &&
		    strncasecmp(s, idmap_kinds[k].name, klen) == 0)
			break;
	if (k == IDMAP_KINDS) {
		snprintf(err, errlen,
			 "unknown map type '%.*s' (guest, host, squash-guest, squash-host, "
			 "forbid-guest or map)",
			 (int)(klen > 32 ? 32 : klen), s);
		return -EINVAL;
	}
	sep = s[klen];
	if (!sep) {
		snprintf(err, errlen, "'%s' has no numbers: %s", s, idmap_kinds[k].form);
		return -EINVAL;
	}
	/* the fields after the separator, split on it */
	for (p = s + klen + 1;; p = q + 1) {
		q = strchr(p, sep);
		size_t len = q ? (size_t)(q - p) : strlen(p);
		if (n < idmap_kinds[k].nums && idmap_num(p, len, &num[n]) < 0) {
			snprintf(err, errlen, "'%.*s' in '%s' is not a number from 0 to 4294967295",
				 (int)(len > 20 ? 20 : len), p, s);
			return -EINVAL;
		}
		n++;
		if (!q)
			break;
	}
	if (n != idmap_kinds[k].nums) {
		snprintf(err, errlen, "'%s' has %d number%s, %s takes %d: %s", s, n,
			 n == 1 ? "" : "s", idmap_kinds[k].name, idmap_kinds[k].nums,
			 idmap_kinds[k].form);
		return -EINVAL;
	}
	m.kind = idmap_kinds[k].kind;
	m.from = num[0];
	if (n == 3) {
		m.to = num[1];
		m.count = num[2];
	} else {
		m.count = num[1];
	}
	if (m.count == 0) {
		snprintf(err, errlen, "'%s': COUNT must be at least 1", s);
		return -EINVAL;
	}
	if ((uint64_t)m.from + m.count > UINT32_MAX) {
		snprintf(err, errlen, "'%s': %u + %u passes 4294967295, the last id", s, m.from,
			 m.count);
		return -EINVAL;
	}
	if (fb_idmap_check(&m, 1, NULL, NULL) < 0) {
		snprintf(err, errlen, "'%s': target range %u + %u passes 4294967295, the last id",
			 s, m.to, m.count);
		return -EINVAL;
	}
	*out = m;
	return 0;
}

/* Which table an entry's source range is in, for messages. */
static const char *idmap_dirs(enum fb_idmap_kind k)
{
	switch (k) {
	case FB_IDMAP_HOST:
	case FB_IDMAP_SQUASH_HOST:
		return "host-to-guest";
	case FB_IDMAP_MAP:
		return "guest-to-host or host-to-guest";
	default:
		return "guest-to-host";
	}
}

/* Parse and check the --translate-@what values in @spec into @map. */
static int idmaps_parse(const char *what, const char *const *spec, int n,
			struct fb_idmap_range *map, char *err, size_t errlen)
{
	char detail[192];
	uint32_t bad, other;

	if (n > FB_VFSD_IDMAPS_MAX) {
		snprintf(err, errlen, "--translate-%s: at most %d maps", what, FB_VFSD_IDMAPS_MAX);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		if (fb_vfsd_idmap_parse(spec[i], &map[i], detail, sizeof(detail)) < 0) {
			snprintf(err, errlen, "--translate-%s: %s", what, detail);
			return -EINVAL;
		}
	}
	if (fb_idmap_check(map, (uint32_t)n, &bad, &other) < 0) {
		snprintf(err, errlen, "--translate-%s: '%s' overlaps '%s' (%s ids)", what,
			 spec[bad], spec[other], idmap_dirs(map[bad].kind));
		return -EINVAL;
	}
	return 0;
}

static int set_cache(struct fb_vfsd_opts *v, const char *value)
{
	if (value && strcmp(value, "none") == 0) /* the C virtiofsd's name for never */
		value = "never";
	return fb_passthrough_cache_parse(value, &v->pt.cache);
}

static int set_sandbox(struct fb_vfsd_opts *v, const char *value)
{
	if (!value)
		return -EINVAL;
	if (strcmp(value, "namespace") == 0)
		v->sandbox = FB_VFSD_SANDBOX_NAMESPACE;
	else if (strcmp(value, "chroot") == 0)
		v->sandbox = FB_VFSD_SANDBOX_CHROOT;
	else if (strcmp(value, "none") == 0)
		v->sandbox = FB_VFSD_SANDBOX_NONE;
	else
		return -EINVAL;
	return 0;
}

static int set_seccomp(struct fb_vfsd_opts *v, const char *value)
{
	static const char *const names[] = {"kill", "log", "trap", "none"};

	for (size_t i = 0; value && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(value, names[i]) == 0) {
			v->seccomp = (enum fb_vfsd_seccomp)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int set_handles(struct fb_vfsd_opts *v, const char *value)
{
	if (!value)
		return -EINVAL;
	if (strcmp(value, "never") == 0)
		v->handles = FB_VFSD_HANDLES_NEVER;
	else if (strcmp(value, "prefer") == 0)
		v->handles = FB_VFSD_HANDLES_PREFER;
	else if (strcmp(value, "mandatory") == 0)
		v->handles = FB_VFSD_HANDLES_MANDATORY;
	else
		return -EINVAL;
	return 0;
}

static int set_log_level(struct fb_vfsd_opts *v, const char *value)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{"off", FB_VFSD_LOG_OFF}, {"error", FB_LOG_ERR}, {"err", FB_LOG_ERR},
		{"warn", FB_LOG_WARNING}, {"info", FB_LOG_INFO}, {"debug", FB_LOG_DEBUG},
		{"trace", FB_LOG_DEBUG},
	};

	for (size_t i = 0; value && i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(value, levels[i].name) == 0) {
			v->log_level = levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

/* Kept as given: parsed after the command line, for messages naming the bad part. */
static int add_idmap(const char **spec, int *n, const char *value)
{
	if (!value || !*value)
		return -EINVAL;
	if (*n < FB_VFSD_IDMAPS_MAX)
		spec[*n] = value;
	(*n)++; /* past the maximum: refused with a message after the parse */
	return 0;
}

/* Every option with a value, and every -o option: one switch on the name. */
static int set_opt(void *priv, const char *name, const char *value)
{
	struct fb_vfsd_opts *v = priv;
	uint64_t x;

	/* the -o on/off pairs of the C virtiofsd: no value */
	static const struct {
		const char *name;
		size_t off;
		int val;
	} pairs[] = {
#define PAIR(n, field, val) {n, offsetof(struct fb_passthrough_config, field), val}
		PAIR("xattr", xattr, 1),
		PAIR("no_xattr", xattr, 0),
		PAIR("posix_acl", posix_acl, 1),
		PAIR("no_posix_acl", posix_acl, 0),
		PAIR("posix_lock", posix_locks, 1),
		PAIR("no_posix_lock", posix_locks, 0),
		PAIR("flock", posix_locks, 1),
		PAIR("no_flock", posix_locks, 0),
		PAIR("readdirplus", readdirplus, 1),
		PAIR("no_readdirplus", readdirplus, 0),
		PAIR("writeback", writeback, 1),
		PAIR("no_writeback", writeback, 0),
		PAIR("killpriv_v2", killpriv_v2, 1),
		PAIR("no_killpriv_v2", killpriv_v2, 0),
		PAIR("announce_submounts", submounts, 1),
		PAIR("allow_direct_io", allow_direct_io, 1),
		PAIR("no_allow_direct_io", allow_direct_io, 0),
#undef PAIR
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (strcmp(name, pairs[i].name) == 0) {
			if (value)
				return -EINVAL;
			*(int *)((char *)&v->pt + pairs[i].off) = pairs[i].val;
			return 0;
		}
	}
	if (strcmp(name, "source") == 0 || strcmp(name, "shared-dir") == 0) {
		if (!value || !*value)
			return -EINVAL;
		v->shared_dir = value;
		return 0;
	}
	if (strcmp(name, "socket-path") == 0 || strcmp(name, "socket") == 0) {
		if (!value || !*value)
			return -EINVAL;
		v->socket_path = value;
		return 0;
	}
	if (strcmp(name, "socket-group") == 0) {
		if (!value || !*value)
			return -EINVAL;
		v->socket_group = value;
		return 0;
	}
	if (strcmp(name, "tag") == 0) {
		if (!value || !*value)
			return -EINVAL;
		v->tag = value;
		return 0;
	}
	if (strcmp(name, "fd") == 0) {
		if (parse_u64(value, INT_MAX, &x) < 0)
			return -EINVAL;
		v->fd = (int)x;
		return 0;
	}
	if (strcmp(name, "cache") == 0)
		return set_cache(v, value);
	if (strcmp(name, "sandbox") == 0)
		return set_sandbox(v, value);
	if (strcmp(name, "seccomp") == 0)
		return set_seccomp(v, value);
	if (strcmp(name, "inode-file-handles") == 0)
		return set_handles(v, value);
	if (strcmp(name, "log-level") == 0 || strcmp(name, "log_level") == 0)
		return set_log_level(v, value);
	if (strcmp(name, "thread-pool-size") == 0) {
		if (parse_u64(value, 1024, &x) < 0)
			return -EINVAL;
		v->thread_pool_size = (unsigned int)x;
		v->thread_pool_set = 1;
		return 0;
	}
	if (strcmp(name, "rlimit-nofile") == 0) {
		if (parse_u64(value, UINT64_MAX, &x) < 0)
			return -EINVAL;
		v->rlimit_nofile = x;
		v->rlimit_set = 1;
		return 0;
	}
	if (strcmp(name, "translate-uid") == 0)
		return add_idmap(v->uid_spec, &v->nuid_map, value);
	if (strcmp(name, "translate-gid") == 0)
		return add_idmap(v->gid_spec, &v->ngid_map, value);
	if (strcmp(name, "xattrmap") == 0) {
		if (!value || !*value)
			return -EINVAL;
		note_ignored(v, "xattrmap");
		return 0;
	}
	return -EINVAL;
}

#define VAL(n, h)                                                                                  \
	{                                                                                          \
		n, FB_OPT_FUNC, .fn = set_opt, .priv = v, .help = h                               \
	}
#define FLAG(n, field, h)                                                                          \
	{                                                                                          \
		n, FB_OPT_FLAG, &v->field, .help = h                                              \
	}

int fb_vfsd_parse(int argc, char **argv, struct fb_vfsd_opts *v, char *err, size_t errlen)
{
	const struct fb_opt opts[] = {
		VAL("--socket-path", NULL),
		VAL("--socket", NULL),
		VAL("--socket-group", NULL),
		VAL("--fd", NULL),
		VAL("--shared-dir", NULL),
		VAL("--tag", NULL),
		VAL("--cache", NULL),
		VAL("--thread-pool-size", NULL),
		VAL("--sandbox", NULL),
		VAL("--seccomp", NULL),
		VAL("--inode-file-handles", NULL),
		VAL("--translate-uid", NULL),
		VAL("--translate-gid", NULL),
		VAL("--rlimit-nofile", NULL),
		VAL("--log-level", NULL),
		VAL("--xattrmap", NULL),
		FLAG("--xattr", f_xattr, NULL),
		FLAG("--posix-acl", f_posix_acl, NULL),
		FLAG("--announce-submounts", f_submounts, NULL),
		FLAG("--writeback", f_writeback, NULL),
		FLAG("--allow-direct-io", f_direct_io, NULL),
		FLAG("--killpriv-v2", f_killpriv_v2, NULL),
		FLAG("--no-killpriv-v2", f_no_killpriv_v2, NULL),
		FLAG("--no-readdirplus", f_no_readdirplus, NULL),
		FLAG("--security-label", f_seclabel, NULL),
		FLAG("--syslog", f_syslog, NULL),
		FLAG("--print-capabilities", f_caps, NULL),
		/* several file systems, as fb-passthrough offers (daemon_vfs.h) */
		FB_DAEMON_VFS_OPTS(&v->vfs),
		/* -o forms */
		VAL("source", NULL),
		VAL("cache", NULL),
		VAL("sandbox", NULL),
		VAL("log_level", NULL),
		VAL("xattrmap", NULL),
		VAL("xattr", NULL),
		VAL("no_xattr", NULL),
		VAL("posix_acl", NULL),
		VAL("no_posix_acl", NULL),
		VAL("flock", NULL),
		VAL("no_flock", NULL),
		VAL("posix_lock", NULL),
		VAL("no_posix_lock", NULL),
		VAL("readdirplus", NULL),
		VAL("no_readdirplus", NULL),
		VAL("writeback", NULL),
		VAL("no_writeback", NULL),
		VAL("killpriv_v2", NULL),
		VAL("no_killpriv_v2", NULL),
		VAL("announce_submounts", NULL),
		VAL("allow_direct_io", NULL),
		VAL("no_allow_direct_io", NULL),
		{NULL},
	};
	const struct fb_main_info info = {
		.name = "fb-virtiofsd",
		.nargs = 0,
		.opts = opts,
	};
	int r;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->log_level = FB_LOG_INFO;
	fb_passthrough_config_init(&v->pt);
	/* virtiofsd's defaults: no xattrs, no kernel-side killpriv handling unless asked */
	v->pt.xattr = 0;
	v->pt.killpriv_v2 = 0;
	/* FUSE passthrough (backing files) is a /dev/fuse feature, not a virtio-fs one */
	v->pt.passthrough = 0;

	r = fb_cmdline_parse(&info, argc, argv, &v->common, err, errlen);
	if (r < 0)
		return r;
	if (v->f_caps) {
		v->print_capabilities = 1;
		return 1;
	}
	if (r == 1)
		return 1;

	if (v->f_xattr)
		v->pt.xattr = 1;
	if (v->f_posix_acl)
		v->pt.posix_acl = v->pt.xattr = 1; /* ACLs are xattrs */
	if (v->f_submounts)
		v->pt.submounts = 1;
	if (v->f_writeback)
		v->pt.writeback = 1;
	if (v->f_direct_io)
		v->pt.allow_direct_io = 1;
	if (v->f_killpriv_v2)
		v->pt.killpriv_v2 = 1;
	if (v->f_no_killpriv_v2)
		v->pt.killpriv_v2 = 0;
	if (v->f_no_readdirplus)
		v->pt.readdirplus = 0;
	v->syslog = v->f_syslog;
	v->security_label = v->f_seclabel;
	if (v->common.debug && v->log_level < FB_LOG_DEBUG)
		v->log_level = FB_LOG_DEBUG;

	if (v->f_killpriv_v2 && v->f_no_killpriv_v2) {
		snprintf(err, errlen, "--killpriv-v2 and --no-killpriv-v2 exclude each other");
		return -EINVAL;
	}
	if (!v->shared_dir) {
		snprintf(err, errlen, "missing --shared-dir (or -o source=DIR)");
		return -EINVAL;
	}
	if (!v->socket_path && v->fd < 0) {
		snprintf(err, errlen, "missing --socket-path or --fd");
		return -EINVAL;
	}
	if (v->socket_path && v->fd >= 0) {
		snprintf(err, errlen, "--socket-path and --fd exclude each other");
		return -EINVAL;
	}
	/*
	 * The control socket's path is a host path, which a jail makes unreachable (its removal
	 * at exit would even name a file of the shared directory instead).
	 */
	if (v->vfs.control && v->sandbox != FB_VFSD_SANDBOX_NONE) {
		snprintf(err, errlen, "--control needs --sandbox=none");
		return -EINVAL;
	}
	if (idmaps_parse("uid", v->uid_spec, v->nuid_map, v->uid_map, err, errlen) < 0 ||
	    idmaps_parse("gid", v->gid_spec, v->ngid_map, v->gid_map, err, errlen) < 0)
		return -EINVAL;
	if ((v->nuid_map || v->ngid_map) && v->pt.posix_acl) {
		/* ACL xattrs name host ids, which would reach the guest untranslated */
		snprintf(err, errlen, "--translate-uid/--translate-gid exclude --posix-acl");
		return -EINVAL;
	}
	if ((v->nuid_map || v->ngid_map) && (v->vfs.nmounts || v->vfs.control)) {
		/* the other backends of a VFS (memfs, passthrough:/DIR) would serve raw ids */
		snprintf(err, errlen,
			 "--translate-uid/--translate-gid apply to the shared directory alone: "
			 "not with --mount or --control");
		return -EINVAL;
	}
	v->pt.uid_map = v->uid_map;
	v->pt.nuid_map = (uint32_t)v->nuid_map;
	v->pt.gid_map = v->gid_map;
	v->pt.ngid_map = (uint32_t)v->ngid_map;
	if (v->thread_pool_set)
		note_ignored(v, "thread-pool-size");
	if (v->security_label)
		note_ignored(v, "security-label");
	return 0;
}

#undef VAL
#undef FLAG

void fb_vfsd_opts_done(struct fb_vfsd_opts *v)
{
	if (v)
		fb_cmdline_done(&v->common);
}

void fb_vfsd_usage(FILE *f)
{
	fputs("usage: fb-virtiofsd [options] --shared-dir DIR (--socket-path PATH | --fd N)\n"
	      "A virtio-fs vhost-user device back end serving DIR, with the command line of\n"
	      "the Rust virtiofsd (--opt=value and --opt value alike).\n"
	      "\n"
	      "    --shared-dir DIR          the directory to share (-o source=DIR)\n"
	      "    --socket-path PATH        listen for the VMM on this Unix socket\n"
	      "    --socket-group GROUP      group of the socket file\n"
	      "    --fd N                    use the inherited socket N (libvirt)\n"
	      "    --tag TAG                 accepted; the VMM (QEMU) sets the tag\n"
	      "    --cache MODE              auto|always|never|metadata (default auto)\n"
	      "    --sandbox MODE            namespace|chroot|none (default namespace)\n"
	      "    --seccomp ACTION          kill|log|trap|none (default kill)\n"
	      "    --xattr                   extended attributes\n"
	      "    --posix-acl               POSIX ACLs (implies --xattr)\n"
	      "    --announce-submounts      show host mounts below DIR as submounts\n"
	      "    --inode-file-handles M    prefer|never|mandatory (default prefer)\n"
	      "    --writeback               the guest's write-back cache\n"
	      "    --allow-direct-io         honour O_DIRECT opens\n"
	      "    --killpriv-v2             clear suid/sgid as the guest asks\n"
	      "    --no-killpriv-v2          do not (the default)\n"
	      "    --no-readdirplus          no attributes with directory listings\n"
	      "    --security-label          accepted, ignored\n"
	      "    --translate-uid MAP       guest:G:H:N host:H:G:N squash-guest:G:H:N\n"
	      "    --translate-gid MAP       squash-host:H:G:N forbid-guest:G:N map:G:H:N\n"
	      "    --thread-pool-size N      accepted, ignored (a thread per queue)\n"
	      "    --rlimit-nofile N         open-file limit (default: the hard limit)\n"
	      "    --log-level LEVEL         error|warn|info|debug|trace|off (default info)\n"
	      "    --syslog                  log to syslog instead of stderr\n"
	      "    --print-capabilities      the vhost-user back-end JSON, then exit\n"
	      "    --mount PATH=TYPE[:ARGS]  a VFS: memfs, passthrough:/DIR or self (DIR) at PATH\n"
	      "    --control SOCKET          runtime VFS changes through fb-ctl SOCKET ...\n"
	      "    -h, --help                this text;  -V, --version  the version\n"
	      "\n"
	      "-o forms (QEMU's C virtiofsd, older libvirt): -o source=DIR,cache=none|auto|\n"
	      "always,sandbox=MODE,xattr|no_xattr,flock|no_flock,posix_lock|no_posix_lock,\n"
	      "log_level=LEVEL,xattrmap=MAP (xattrmap is accepted and ignored)\n",
	      f);
}

void fb_vfsd_print_capabilities(FILE *f)
{
	/*
	 * "separate-options": the flags above work one by one (libvirt then passes
	 * --shared-dir, --cache, ... instead of -o). No "migrate-precopy": no migration.
	 */
	fputs("{\n"
	      "  \"type\": \"fs\",\n"
	      "  \"features\": [\n"
	      "    \"separate-options\"\n"
	      "  ]\n"
	      "}\n",
	      f);
}

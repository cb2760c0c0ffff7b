/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd's command line (daemons/virtiofsd_opts.c): the Rust virtiofsd's flags in both
 * spellings, the C virtiofsd's -o forms as libvirt passes them, the defaults, and errors that
 * name the option.
 */
#include "harness.h"
#include "virtiofsd_opts.h"

static struct fb_vfsd_opts v;
static char err[256];
static int have_opts;

/* Parse a NULL-terminated list of arguments (argv[0] is added). */
#define PARSE(...) parse_args((const char *[]){"fb-virtiofsd", __VA_ARGS__, NULL})

static int parse_args(const char **args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	if (have_opts)
		fb_vfsd_opts_done(&v);
	have_opts = 1;
	return fb_vfsd_parse(argc, (char **)args, &v, err, sizeof(err));
}

TEST(defaults)
{
	CHECK_EQ(PARSE("--socket-path=/run/s", "--shared-dir=/srv"), 0);
	CHECK_STR(v.socket_path, "/run/s");
	CHECK_STR(v.shared_dir, "/srv");
	CHECK_EQ(v.fd, -1);
	CHECK_EQ(v.sandbox, FB_VFSD_SANDBOX_NAMESPACE);
	CHECK_EQ(v.seccomp, FB_VFSD_SECCOMP_KILL);
	CHECK_EQ(v.pt.cache, FB_PT_CACHE_AUTO);
	CHECK_EQ(v.pt.xattr, 0);
	CHECK_EQ(v.pt.posix_acl, 0);
	CHECK_EQ(v.pt.writeback, 0);
	CHECK_EQ(v.pt.killpriv_v2, 0);
	CHECK_EQ(v.pt.submounts, 0);
	CHECK_EQ(v.pt.readdirplus, 1);
	CHECK_EQ(v.pt.passthrough, 0);
	CHECK_EQ(v.handles, FB_VFSD_HANDLES_PREFER);
	CHECK_EQ(v.log_level, FB_LOG_INFO);
	CHECK_EQ(v.rlimit_set, 0);
	CHECK_EQ(v.nignored, 0);
}

TEST(both_spellings)
{
	CHECK_EQ(PARSE("--socket-path", "/run/s", "--shared-dir", "/srv", "--cache", "never",
		       "--sandbox", "chroot", "--seccomp", "log", "--log-level", "debug",
		       "--rlimit-nofile", "4096", "--inode-file-handles", "mandatory"),
		 0);
	CHECK_STR(v.socket_path, "/run/s");
	CHECK_EQ(v.pt.cache, FB_PT_CACHE_NEVER);
	CHECK_EQ(v.sandbox, FB_VFSD_SANDBOX_CHROOT);
	CHECK_EQ(v.seccomp, FB_VFSD_SECCOMP_LOG);
	CHECK_EQ(v.log_level, FB_LOG_DEBUG);
	CHECK_EQ(v.rlimit_set, 1);
	CHECK_EQ(v.rlimit_nofile, 4096);
	CHECK_EQ(v.handles, FB_VFSD_HANDLES_MANDATORY);

	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--cache=always", "--sandbox=none",
		       "--seccomp=trap", "--log-level=error", "--inode-file-handles=never"),
		 0);
	CHECK_EQ(v.pt.cache, FB_PT_CACHE_ALWAYS);
	CHECK_EQ(v.sandbox, FB_VFSD_SANDBOX_NONE);
	CHECK_EQ(v.seccomp, FB_VFSD_SECCOMP_TRAP);
	CHECK_EQ(v.log_level, FB_LOG_ERR);
	CHECK_EQ(v.handles, FB_VFSD_HANDLES_NEVER);

	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--cache=metadata", "--seccomp=none",
		       "--log-level=off"),
		 0);
	CHECK_EQ(v.pt.cache, FB_PT_CACHE_METADATA);
	CHECK_EQ(v.seccomp, FB_VFSD_SECCOMP_NONE);
	CHECK_EQ(v.log_level, FB_VFSD_LOG_OFF);
}

TEST(flags)
{
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--xattr", "--announce-submounts",
		       "--writeback", "--allow-direct-io", "--killpriv-v2", "--syslog",
		       "--no-readdirplus"),
		 0);
	CHECK_EQ(v.fd, 3);
	CHECK_EQ(v.pt.xattr, 1);
	CHECK_EQ(v.pt.submounts, 1);
	CHECK_EQ(v.pt.writeback, 1);
	CHECK_EQ(v.pt.allow_direct_io, 1);
	CHECK_EQ(v.pt.killpriv_v2, 1);
	CHECK_EQ(v.pt.readdirplus, 0);
	CHECK_EQ(v.syslog, 1);

	/* ACLs are xattrs: --posix-acl turns both on */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--posix-acl"), 0);
	CHECK_EQ(v.pt.posix_acl, 1);
	CHECK_EQ(v.pt.xattr, 1);

	/* a flag takes no value */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--xattr=yes"), -EINVAL);
	CHECK(strstr(err, "--xattr"));
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--killpriv-v2", "--no-killpriv-v2"), -EINVAL);
}

TEST(libvirt_o_forms)
{
	/* what libvirt 9 passes to QEMU's C virtiofsd */
	CHECK_EQ(PARSE("--fd=21", "-o",
		       "source=/var/lib/share,cache=none,sandbox=chroot,xattr,"
		       "flock,posix_lock"),
		 0);
	CHECK_EQ(v.fd, 21);
	CHECK_STR(v.shared_dir, "/var/lib/share");
	CHECK_EQ(v.pt.cache, FB_PT_CACHE_NEVER);
	CHECK_EQ(v.sandbox, FB_VFSD_SANDBOX_CHROOT);
	CHECK_EQ(v.pt.xattr, 1);
	CHECK_EQ(v.pt.posix_locks, 1);

	CHECK_EQ(PARSE("--fd=4", "-osource=/x,cache=auto,no_xattr,no_flock,no_posix_lock", "-o",
		       "sandbox=namespace,cache=always"),
		 0);
	CHECK_STR(v.shared_dir, "/x");
	CHECK_EQ(v.pt.cache, FB_PT_CACHE_ALWAYS); /* the later -o wins */
	CHECK_EQ(v.sandbox, FB_VFSD_SANDBOX_NAMESPACE);
	CHECK_EQ(v.pt.xattr, 0);
	CHECK_EQ(v.pt.posix_locks, 0);

	/* xattrmap: accepted, reported as ignored once */
	CHECK_EQ(PARSE("--fd=4", "-o", "source=/x,xattrmap=:map::user.virtiofs.:", "-o",
		       "xattrmap=:ok:all:::"),
		 0);
	CHECK_EQ(v.nignored, 1);
	CHECK_STR(v.ignored[0], "xattrmap");

	/* -o debug is the shared parser's */
	CHECK_EQ(PARSE("--fd=4", "-o", "source=/x,debug"), 0);
	CHECK_EQ(v.common.debug, 1);
	CHECK_EQ(v.log_level, FB_LOG_DEBUG);
}

TEST(ignored_options)
{
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--thread-pool-size=8",
		       "--security-label", "--tag=myfs"),
		 0);
	CHECK_STR(v.tag, "myfs");
	CHECK_EQ(v.thread_pool_size, 8);
	CHECK_EQ(v.nignored, 2);
	CHECK_STR(v.ignored[0], "thread-pool-size");
	CHECK_STR(v.ignored[1], "security-label");
}

TEST(errors_name_the_option)
{
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--frobnicate"), -EINVAL);
	CHECK(strstr(err, "--frobnicate"));
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--cache=sometimes"), -EINVAL);
	CHECK(strstr(err, "--cache"));
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--sandbox=jail"), -EINVAL);
	CHECK(strstr(err, "--sandbox"));
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--seccomp=maybe"), -EINVAL);
	CHECK(strstr(err, "--seccomp"));
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--inode-file-handles=always"),
		 -EINVAL);
	CHECK(strstr(err, "--inode-file-handles"));
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--rlimit-nofile=-1"), -EINVAL);
	CHECK(strstr(err, "--rlimit-nofile"));
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--thread-pool-size=x"), -EINVAL);
	CHECK_EQ(PARSE("--socket-path=/s", "--shared-dir=/d", "--log-level=loud"), -EINVAL);
	CHECK(strstr(err, "--log-level"));
	CHECK_EQ(PARSE("--fd=x", "--shared-dir=/d"), -EINVAL);
	CHECK(strstr(err, "--fd"));
	CHECK_EQ(PARSE("--fd=3", "-o", "source=/d,bogus"), -EINVAL);
	CHECK(strstr(err, "bogus"));
	CHECK_EQ(PARSE("--fd=3", "-o", "source=/d,cache=sometimes"), -EINVAL);
	CHECK(strstr(err, "cache"));
	/* a value that is missing at the end */
	CHECK_EQ(PARSE("--shared-dir=/d", "--socket-path"), -EINVAL);
	CHECK(strstr(err, "--socket-path"));
	/* positional arguments are not ours */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "/mnt"), -EINVAL);
	CHECK(strstr(err, "/mnt"));
}

TEST(required_and_exclusive)
{
	CHECK_EQ(PARSE("--socket-path=/s"), -EINVAL);
	CHECK(strstr(err, "--shared-dir"));
	CHECK_EQ(PARSE("--shared-dir=/d"), -EINVAL);
	CHECK(strstr(err, "--socket-path"));
	CHECK_EQ(PARSE("--shared-dir=/d", "--socket-path=/s", "--fd=3"), -EINVAL);
	CHECK(strstr(err, "--fd"));
}

TEST(output_only)
{
	CHECK_EQ(PARSE("--print-capabilities"), 1);
	CHECK_EQ(v.print_capabilities, 1);
	CHECK_EQ(PARSE("--help"), 1);
	CHECK_EQ(v.common.help, 1);
	CHECK_EQ(PARSE("-h"), 1);
	CHECK_EQ(PARSE("--version"), 1);
	CHECK_EQ(v.common.version, 1);
	CHECK_EQ(PARSE("-V"), 1);
}

TEST(print_capabilities_json)
{
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	CHECK(f);
	fb_vfsd_print_capabilities(f);
	fclose(f);
	CHECK(strstr(buf, "\"type\": \"fs\""));
	CHECK(strstr(buf, "\"features\": ["));
	CHECK(strstr(buf, "\"separate-options\""));
	CHECK(!strstr(buf, "migrate"));
}

/* Parse one map value into m; its error message into e. */
static struct fb_idmap_range m;
static char e[256];
#define IDMAP(str) fb_vfsd_idmap_parse(str, &m, e, sizeof(e))

TEST(translate_ids)
{
	CHECK_EQ(IDMAP("map:1000:2000:10"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_MAP);
	CHECK_EQ(m.from, 1000);
	CHECK_EQ(m.to, 2000);
	CHECK_EQ(m.count, 10);
	CHECK_EQ(IDMAP("guest:0:100000:65536"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_GUEST);
	CHECK_EQ(IDMAP("host:100000:0:65536"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_HOST);
	CHECK_EQ(m.from, 100000);
	CHECK_EQ(m.to, 0);
	CHECK_EQ(IDMAP("squash-guest:0:501:4294967295"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_SQUASH_GUEST);
	CHECK_EQ(m.count, 4294967295u);
	CHECK_EQ(IDMAP("squash-host:0:65534:4294967295"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_SQUASH_HOST);
	CHECK_EQ(IDMAP("forbid-guest:1001:999"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_FORBID_GUEST);
	CHECK_EQ(m.from, 1001);
	CHECK_EQ(m.count, 999);
	CHECK_EQ(IDMAP("squash-guest:0:4294967295:4294967295"), 0); /* a squash target is 1 id */
	/* as the Rust virtiofsd reads them: the kind in any case, any one separator */
	CHECK_EQ(IDMAP("MAP:1:2:3"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_MAP);
	CHECK_EQ(IDMAP("Squash-Guest/0/7/5"), 0);
	CHECK_EQ(m.kind, FB_IDMAP_SQUASH_GUEST);
	CHECK_EQ(m.to, 7);
	CHECK_EQ(IDMAP("forbid-guest,5,+6"), 0);
	CHECK_EQ(m.count, 6);
}

TEST(translate_id_errors_name_the_bad_part)
{
	m = (struct fb_idmap_range){FB_IDMAP_HOST, 1, 2, 3};
	CHECK_EQ(IDMAP("both:1:2:3"), -EINVAL);
	CHECK(strstr(e, "'both'"));
	CHECK_EQ(m.kind, FB_IDMAP_HOST); /* untouched on failure */
	CHECK_EQ(m.count, 3);
	CHECK_EQ(IDMAP(""), -EINVAL);
	CHECK(strstr(e, "unknown map type"));
	CHECK_EQ(IDMAP("map"), -EINVAL);
	CHECK(strstr(e, "no numbers"));
	CHECK(strstr(e, "map:GUEST_BASE:HOST_BASE:COUNT"));
	CHECK_EQ(IDMAP("forbid-guest:1:2:3"), -EINVAL);
	CHECK(strstr(e, "3 numbers"));
	CHECK(strstr(e, "forbid-guest:GUEST_BASE:COUNT"));
	CHECK_EQ(IDMAP("map:1:2"), -EINVAL);
	CHECK(strstr(e, "2 numbers"));
	CHECK_EQ(IDMAP("map:1:2:3:4"), -EINVAL);
	CHECK(strstr(e, "4 numbers"));
	CHECK_EQ(IDMAP("map::1:2"), -EINVAL);
	CHECK(strstr(e, "'' in 'map::1:2'"));
	CHECK_EQ(IDMAP("map:-1:2:3"), -EINVAL);
	CHECK(strstr(e, "'-1'"));
	CHECK_EQ(IDMAP("map:1:2x:3"), -EINVAL);
	CHECK(strstr(e, "'2x'"));
	CHECK_EQ(IDMAP("map:1/2/3"), -EINVAL); /* one separator for all */
	CHECK(strstr(e, "'1/2/3'"));
	CHECK_EQ(IDMAP("guest:4294967296:0:1"), -EINVAL);
	CHECK(strstr(e, "'4294967296'"));
	CHECK_EQ(IDMAP("map:1:2:0"), -EINVAL);
	CHECK(strstr(e, "COUNT must be at least 1"));
	CHECK_EQ(IDMAP("map:4294967295:0:1"), -EINVAL); /* the last id is never covered */
	CHECK(strstr(e, "4294967295 + 1"));
	CHECK_EQ(IDMAP("forbid-guest:1:4294967295"), -EINVAL);
	CHECK_EQ(IDMAP("forbid-guest:0:4294967295"), 0);
	CHECK_EQ(IDMAP("guest:0:4294967295:2"), -EINVAL); /* the target range too */
	CHECK(strstr(e, "target range"));
}

TEST(translate_ids_on_the_command_line)
{
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--translate-uid=map:0:1000:1",
		       "--translate-uid", "forbid-guest:1:99",
		       "--translate-gid=squash-guest:0:100:"
		       "65536"),
		 0);
	CHECK_EQ(v.nuid_map, 2);
	CHECK_EQ(v.ngid_map, 1);
	CHECK_EQ(v.uid_map[1].kind, FB_IDMAP_FORBID_GUEST);
	/* passed down to the passthrough */
	CHECK(v.pt.uid_map == v.uid_map);
	CHECK_EQ(v.pt.nuid_map, 2);
	CHECK(v.pt.gid_map == v.gid_map);
	CHECK_EQ(v.pt.ngid_map, 1);
	CHECK_EQ(v.pt.gid_map[0].to, 100);
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d"), 0);
	CHECK_EQ(v.pt.nuid_map, 0);
	CHECK_EQ(v.pt.ngid_map, 0);

	/* errors name the option and the bad value */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--translate-uid=map:0:1000"), -EINVAL);
	CHECK(strstr(err, "--translate-uid"));
	CHECK(strstr(err, "map:0:1000"));
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--translate-gid=squash:0:1:2"), -EINVAL);
	CHECK(strstr(err, "--translate-gid"));
	CHECK(strstr(err, "'squash'"));
	/* overlaps in one direction, as the Incus report had them: both entries named */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--translate-uid=forbid-guest:0:999",
		       "--translate-uid=map:1000:1000:1", "--translate-uid=forbid-guest:1001:1999",
		       "--translate-uid=map:2000:2000:1"),
		 -EINVAL);
	CHECK(strstr(err, "--translate-uid"));
	CHECK(strstr(err, "'map:2000:2000:1' overlaps 'forbid-guest:1001:1999'"));
	CHECK(strstr(err, "guest-to-host"));
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--translate-gid=host:5:0:10",
		       "--translate-gid=squash-host:14:0:1"),
		 -EINVAL);
	CHECK(strstr(err, "'squash-host:14:0:1' overlaps 'host:5:0:10' (host-to-guest"));
	/* the same range in the two directions is fine; uid and gid maps are apart */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--translate-uid=squash-guest:0:1000:65536",
		       "--translate-uid=squash-host:0:0:65536", "--translate-gid=map:0:0:65536"),
		 0);
	/* with POSIX ACLs, as the Rust virtiofsd: no */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--posix-acl", "--translate-uid=map:0:1:1"),
		 -EINVAL);
	CHECK(strstr(err, "--posix-acl"));
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "-o", "posix_acl", "--translate-gid=map:0:1:1"),
		 -EINVAL);
	/* other backends of a VFS would serve untranslated ids */
	CHECK_EQ(
		PARSE("--fd=3", "--shared-dir=/d", "--mount=/m=memfs", "--translate-uid=map:0:1:1"),
		-EINVAL);
	CHECK(strstr(err, "--mount"));
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--sandbox=none", "--control=/run/c",
		       "--translate-gid=map:0:1:1"),
		 -EINVAL);
	CHECK(strstr(err, "--control"));
	/* at most FB_VFSD_IDMAPS_MAX of each */
	const char *many[FB_VFSD_IDMAPS_MAX + 5] = {"fb-virtiofsd", "--fd=3", "--shared-dir=/d"};
	char vals[FB_VFSD_IDMAPS_MAX + 1][48];
	for (int i = 0; i <= FB_VFSD_IDMAPS_MAX; i++) {
		snprintf(vals[i], sizeof(vals[i]), "--translate-uid=guest:%d:0:1", i);
		many[3 + i] = vals[i];
	}
	many[FB_VFSD_IDMAPS_MAX + 3] = NULL;
	CHECK_EQ(parse_args(many), 0);
	CHECK_EQ(v.nuid_map, FB_VFSD_IDMAPS_MAX);
	many[FB_VFSD_IDMAPS_MAX + 3] = vals[FB_VFSD_IDMAPS_MAX];
	many[FB_VFSD_IDMAPS_MAX + 4] = NULL;
	CHECK_EQ(parse_args(many), -EINVAL);
	CHECK(strstr(err, "at most 32"));
}

TEST(vfs_options)
{
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--mount", "/a=memfs", "--mount=/s=self",
		       "--control=/run/ctl", "--sandbox=none"),
		 0);
	CHECK_EQ(v.vfs.nmounts, 2);
	CHECK_STR(v.vfs.mounts[0], "/a=memfs");
	CHECK_STR(v.vfs.mounts[1], "/s=self");
	CHECK_STR(v.vfs.control, "/run/ctl");
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--mount=nopath"), -EINVAL);
	CHECK(strstr(err, "--mount"));
	/* a jail cannot reach the control socket's host path */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--control=/run/ctl"), -EINVAL);
	CHECK(strstr(err, "--control"));
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--control=/run/ctl", "--sandbox=chroot"),
		 -EINVAL);
	/* --mount alone is fine in the jail: backends are opened before it */
	CHECK_EQ(PARSE("--fd=3", "--shared-dir=/d", "--mount=/a=memfs"), 0);
}

TEST_MAIN()

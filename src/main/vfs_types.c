/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * The VFS backend types the library ships (memfs, passthrough), for "--mount" and fb-ctl.
 * They live here, above the VFS, so that the VFS layer builds no file system itself; their
 * options are parsed by the file systems' own setters, as the daemons' "-o" options are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_backend/main.h>
#include <fuse_backend/memfs.h>
#include <fuse_backend/passthrough.h>
#include <fuse_backend/vfs.h>

/* Longest ARGS of a spec (a control request line is at most 4096 bytes). */
#define TYPE_ARGS_MAX 4096

/* Apply each "NAME[=VALUE]" of the comma-separated @buf (modified) with @set. */
static int apply_list(char *buf, int (*set)(void *cfg, const char *name, const char *value),
		      void *cfg, char *err, size_t errlen)
{
	char *save = NULL;

	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *value = strchr(t, '=');
		int r;

		if (value)
			*value++ = '\0';
		r = set(cfg, t, value);
		if (r == -ENOENT) {
			snprintf(err, errlen, "unknown option '%s'", t);
			return -EINVAL;
		}
		if (r < 0) {
			snprintf(err, errlen, "bad value for option '%s'%s%s%s", t,
				 value ? ": '" : "", value ? value : "", value ? "'" : "");
			return -EINVAL;
		}
	}
	return 0;
}

static int memfs_set(void *cfg, const char *name, const char *value)
{
	return fb_memfs_opt_set(cfg, name, value);
}

static int passthrough_set(void *cfg, const char *name, const char *value)
{
	return fb_passthrough_opt_set(cfg, name, value);
}

/* memfs[:OPTIONS] */
static int memfs_create(void *priv, const char *args, const struct fb_fs_ops **ops,
			size_t *ops_size, void **fs, char *err, size_t errlen)
{
	struct fb_memfs_config cfg = {.root_uid = getuid(), .root_gid = getgid()};
	char buf[TYPE_ARGS_MAX + 1];
	struct fb_memfs *m;
	int r;

	if (snprintf(buf, sizeof(buf), "%s", args) >= (int)sizeof(buf))
		return -EINVAL;
	r = apply_list(buf, memfs_set, &cfg, err, errlen);
	if (r < 0)
		return r;
	r = fb_memfs_new(&cfg, &m);
	if (r < 0)
		return r;
	*ops = &fb_memfs_ops;
	*ops_size = sizeof(fb_memfs_ops);
	*fs = m;
	return 0;
}

static void memfs_free(void *priv, void *fs)
{
	fb_memfs_free(fs);
}

/* passthrough:/DIR[,OPTIONS] */
static int passthrough_create(void *priv, const char *args, const struct fb_fs_ops **ops,
			      size_t *ops_size, void **fs, char *err, size_t errlen)
{
	struct fb_passthrough_config cfg;
	char buf[TYPE_ARGS_MAX + 1], *comma;
	struct fb_passthrough *pt;
	struct stat st;
	int r;

	fb_passthrough_config_init(&cfg);
	if (snprintf(buf, sizeof(buf), "%s", args) >= (int)sizeof(buf))
		return -EINVAL;
	if (buf[0] != '/') {
		snprintf(err, errlen, "needs an absolute source directory: passthrough:/DIR");
		return -EINVAL;
	}
	comma = strchr(buf, ',');
	if (comma) {
		*comma = '\0';
		r = apply_list(comma + 1, passthrough_set, &cfg, err, errlen);
		if (r < 0)
			return r;
	}
	cfg.source = buf;
	if (stat(cfg.source, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "source %s: %s", cfg.source, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "source %s is not a directory", cfg.source);
		return -ENOTDIR;
	}
	r = fb_passthrough_new(&cfg, &pt);
	if (r < 0)
		return r;
	*ops = &fb_passthrough_ops;
	*ops_size = sizeof(fb_passthrough_ops);
	*fs = pt;
	return 0;
}

static void passthrough_free(void *priv, void *fs)
{
	fb_passthrough_free(fs);
}

int fb_vfs_register_builtin_types(struct fb_vfs *vfs)
{
	static const struct fb_vfs_type types[] = {
		{.name = "memfs", .create = memfs_create, .free = memfs_free},
		{.name = "passthrough", .create = passthrough_create, .free = passthrough_free},
	};
	int r = 0;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && r == 0; i++)
		r = fb_vfs_register_type(vfs, &types[i]);
	return r;
}

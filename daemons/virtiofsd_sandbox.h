/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd's sandbox, in the order the daemon takes the steps:
 *
 *	fb_vfsd_rlimit(v);		// RLIMIT_NOFILE up to the hard limit (or --rlimit-nofile)
 *	fb_vfsd_sandbox_enter(v);	// namespace: new mount/pid/net/IPC namespaces; fork (the
 *					// parent waits and forwards signals and the exit status,
 *					// never returns); private mounts, a new /proc, DIR bound
 *					// on itself
 *	fb_vfsd_passthrough_new(v, &pt); // opens DIR and /proc/self/fd
 *	... listen on the socket ...
 *	fb_vfsd_sandbox_jail(v);	// namespace: pivot_root into DIR and drop the old root
 *					// (no /proc left: the passthrough keeps its descriptor);
 *					// chroot: chroot(DIR); none: nothing
 *	fb_vfsd_drop_caps(v);		// libcap-ng: only what the passthrough needs
 *	fb_vfsd_seccomp(v);		// libseccomp: an allowlist, all threads, NoNewPrivs
 *
 * Each returns 0 or a negative errno, and logs what failed (fb_log).
 */
#ifndef FB_VIRTIOFSD_SANDBOX_H
#define FB_VIRTIOFSD_SANDBOX_H

#include "virtiofsd_opts.h"

int fb_vfsd_rlimit(const struct fb_vfsd_opts *v);
int fb_vfsd_sandbox_enter(const struct fb_vfsd_opts *v);
int fb_vfsd_sandbox_jail(const struct fb_vfsd_opts *v);

/*
 * The passthrough of the shared directory, by --inode-file-handles: never hides
 * CAP_DAC_READ_SEARCH while it probes (so it keeps O_PATH descriptors), mandatory refuses a
 * directory without working file handles. Call between _enter() and _jail(). Logs failures.
 */
int fb_vfsd_passthrough_new(const struct fb_vfsd_opts *v, struct fb_passthrough **ret);

int fb_vfsd_drop_caps(const struct fb_vfsd_opts *v);
int fb_vfsd_seccomp(const struct fb_vfsd_opts *v);

#endif /* FB_VIRTIOFSD_SANDBOX_H */

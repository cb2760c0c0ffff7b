/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fb-virtiofsd's sandbox, in the order the daemon takes the steps:
 *
 *	fb_vfsd_rlimit(v);		// RLIMIT_NOFILE up to the hard limit (or --rlimit-nofile)
 *	fb_vfsd_sandbox_enter(v);	// namespace: new mount/pid/net/IPC namespaces; fork (the
 *					// parent waits and forwards signals and the exit status,
 *					// never returns); private mounts, a new /proc, DIR bound
 *					// on itself
 *	... open DIR and /proc/self/fd (fb_passthrough_new), listen on the socket ...
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
 * With --inode-file-handles=never, hide CAP_DAC_READ_SEARCH from the effective set around
 * fb_passthrough_new() so that it falls back to O_PATH descriptors (@hide 1, then 0).
 */
int fb_vfsd_handles_cap(int hide);

int fb_vfsd_drop_caps(const struct fb_vfsd_opts *v);
int fb_vfsd_seccomp(const struct fb_vfsd_opts *v);

#endif /* FB_VIRTIOFSD_SANDBOX_H */

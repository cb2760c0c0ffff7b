/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * Directory listings written straight into the reply: no intermediate buffer, so a listing
 * costs no allocation and is bounded by the size the kernel asked for.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "api/server_i.h"

void fb__dirbuf_init(struct fb_dirbuf *b, struct fb_writer *w, size_t size, int plus,
		     uint32_t minor)
{
	b->w = w;
	b->left = size < fb_writer_available(w) ? size : fb_writer_available(w);
	b->plus = plus;
	b->added = 0;
	b->minor = minor;
	b->hook = NULL;
	b->hook_priv = NULL;
}

void fb_dirbuf_swap_hook(struct fb_dirbuf *b, fb_dirbuf_hook *hook, void **priv)
{
	fb_dirbuf_hook h = b->hook;
	void *p = b->hook_priv;

	b->hook = *hook;
	b->hook_priv = *priv;
	*hook = h;
	*priv = p;
}

/* A name the kernel will accept in a directory record. */
static int dirent_name_ok(const char *name, size_t namelen)
{
	if (!name || namelen == 0 || namelen > FB__NAME_MAX)
		return 0;
	return memchr(name, '/', namelen) == NULL && memchr(name, '\0', namelen) == NULL;
}

/* Append the dirent part (header, name, zero padding) of one record; space was checked. */
static int dirent_write(struct fb_dirbuf *b, const char *name, size_t namelen, uint64_t ino,
			uint32_t type, uint64_t off)
{
	struct fb_dirent d;
	size_t pad = FB_DIRENT_ALIGN(FB_NAME_OFFSET + namelen) - (FB_NAME_OFFSET + namelen);
	int r;

	d.ino = ino;
	d.off = off;
	d.namelen = (uint32_t)namelen;
	d.type = type;
	r = fb_writer_write(b->w, &d, FB_NAME_OFFSET);
	if (r == 0)
		r = fb_writer_write(b->w, name, namelen);
	if (r == 0)
		r = fb_writer_zero(b->w, pad);
	return r;
}

int fb_dirbuf_add(struct fb_dirbuf *b, const char *name, size_t namelen, uint64_t ino,
		  uint32_t type, uint64_t off)
{
	size_t reclen;
	int r;

	if (!b || b->plus)
		return -EINVAL;
	if (b->hook) {
		struct fb_entry e;

		memset(&e, 0, sizeof(e));
		e.attr.st_ino = ino;
		e.attr.st_mode = (mode_t)(type << 12);
		return b->hook(b->hook_priv, b, name, namelen, &e, off);
	}
	if (!dirent_name_ok(name, namelen))
		return -EINVAL;
	reclen = FB_DIRENT_ALIGN(FB_NAME_OFFSET + namelen);
	if (reclen > b->left || reclen > fb_writer_available(b->w))
		return -ENOSPC;
	r = dirent_write(b, name, namelen, ino, type, off);
	if (r < 0)
		return r;
	b->left -= reclen;
	b->added++;
	return 0;
}

int fb_dirbuf_add_plus(struct fb_dirbuf *b, const char *name, size_t namelen,
		       const struct fb_entry *e, uint64_t off)
{
	struct fb_entry_out eo;
	size_t reclen;
	int r;

	if (!b || !b->plus || !e)
		return -EINVAL;
	if (b->hook)
		return b->hook(b->hook_priv, b, name, namelen, e, off);
	if (!dirent_name_ok(name, namelen))
		return -EINVAL;
	reclen = FB_DIRENT_ALIGN(FB_NAME_OFFSET_DIRENTPLUS + namelen);
	if (reclen > b->left || reclen > fb_writer_available(b->w))
		return -ENOSPC;
	/* Node id 0 ("." and "..", or "no attributes"): the kernel reads nothing but the dirent. */
	if (e->ino)
		fb__entry_out_fill(e, &eo);
	else
		memset(&eo, 0, sizeof(eo));
	r = fb_writer_write(b->w, &eo, sizeof(eo));
	if (r == 0)
		r = dirent_write(b, name, namelen, e->attr.st_ino,
				 (uint32_t)((e->attr.st_mode & S_IFMT) >> 12), off);
	if (r < 0)
		return r;
	b->left -= reclen;
	b->added++;
	return 0;
}

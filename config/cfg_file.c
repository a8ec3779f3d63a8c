/* cfg_file.c - replacing a file so that the replacement survives a crash:
 * rename() makes the switch atomic, but the new directory entry reaches
 * the disk only when the directory itself is synced (a crash before that
 * may bring the old file back after an acknowledged change). Used by the
 * policy store's writers and by dpsecd's sequence-number file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cfg_file.h"

static int sync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	if ((size_t)snprintf(copy, sizeof(copy), "%s", path) >= sizeof(copy))
		return -ENAMETOOLONG;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int cfg_replace_durably(const char *from, const char *to)
{
	if (rename(from, to) < 0)
		return -errno;
	return sync_dir_of(to);
}

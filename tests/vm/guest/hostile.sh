# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Scenario "hostile": before this boot the host fed daemons on this share malformed vhost-user
# messages and descriptor chains (tests/vm/hostile_front.c) and watched them survive or exit
# cleanly; a new daemon on the same share serves this guest, which runs the files workload
# without its two long subtests (bigfile and smallfiles: the files scenario runs those).
FILES_SUBTESTS="fileops perms rename links xattr hostfile rmtree"
. /vmtest/files.sh

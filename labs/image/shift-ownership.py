# Shifts every file's owner and group in a root filesystem by a fixed offset, so that root inside a
# user-namespace sandbox (mapped to that offset on the host) owns the image as it owned it when built.
# runc 1.1 has no idmapped mounts: the image is shifted once, when it is built.
#   python3 shift-ownership.py <rootfs> <offset>
import os
import stat
import sys

root, offset = sys.argv[1], int(sys.argv[2])
seen = set()


def shift(path):
    st = os.lstat(path)
    if (st.st_dev, st.st_ino) in seen:  # a hard link to a file already shifted
        return
    seen.add((st.st_dev, st.st_ino))
    os.chown(path, st.st_uid + offset, st.st_gid + offset, follow_symlinks=False)
    # chown clears the set-user-ID and set-group-ID bits: put them back.
    if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
        os.chmod(path, stat.S_IMODE(st.st_mode))


shift(root)
for directory, subdirectories, files in os.walk(root):
    for name in subdirectories + files:
        shift(os.path.join(directory, name))

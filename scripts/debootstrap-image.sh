# shellcheck shell=bash
# The steps every image family's build.sh shares (labs/*/image/build.sh
# source this file): a Debian root made by mmdebstrap from Debian's
# packages, downloaded on the host and kept between builds, then unpacked,
# overlaid with the family's files and configured in a chroot. Each family
# then imports the root as its images its own way.
#
# A family's folder holds build.sh, packages.txt (one Debian package or
# more a line, # comments), configure.sh (run by /bin/sh in the chroot) and
# overlay/ (copied over the root first).

image_suite=bookworm
image_mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
image_debs=${NETLAB_CACHE:-/var/cache/netlab}/debs # downloaded packages, shared by every family
image_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# image_need_root: mmdebstrap and chroot need root; installs mmdebstrap
# when it is missing.
image_need_root() {
  [ "$(id -u)" = 0 ] || { echo "build: run as root (mmdebstrap and chroot need it)" >&2; exit 1; }
  command -v mmdebstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null; }
}

# image_scratch DIR: makes DIR, a new empty folder, a memory file system
# when the machine has memory to spare (4 GiB available; a root is about
# 250 MB, its packages 100 MB, a configured copy of it as much again), so
# that dpkg's many small writes and the tars after them neither wait on
# the disk's journal nor queue behind other writes (the Go build's, in a
# fresh set-up). Without the memory, or where mounting is not allowed,
# DIR stays on disk. NETLAB_BUILD_ON_DISK=1 keeps it there.
# image_scratch_done DIR removes DIR and what is mounted in it.
image_scratch() {
  local avail
  [ -z "${NETLAB_BUILD_ON_DISK:-}" ] || return 0
  avail=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo 2>/dev/null)
  [ "${avail:-0}" -ge 4096 ] || return 0
  mount -t tmpfs -o mode=755,size=3g netlab-build "$1" 2>/dev/null || true
}
image_scratch_done() {
  local m
  # What is mounted at or under DIR, deepest first: DIR itself, a chroot's /proc.
  for m in $(awk -v d="$1" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$1"
}

# image_inputs DIR: the cache key of a family's images, 16 hex digits: a
# hash of every file under DIR, of this file and of image-build-bin's
# stand-ins, which shape the root as much as they do. Images labelled with the same key are current.
image_inputs() {
  {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    (cd "$image_lib_dir" && sha256sum debootstrap-image.sh image-build-bin/*)
  } | sha256sum | cut -c1-16
}

# image_root DIR CACHE: makes sure CACHE holds the Debian root of
# DIR/packages.txt, as a tar named by the hash of suite and packages (kept
# while packages.txt is unchanged); sets image_pristine to its path and
# image_root_built to 1 when it was made now, 0 when it was cached.
# Prints step 1 of the caller's steps.
image_root() {
  local here=$1 cache=$2 pkgs pkghash tmp
  mkdir -p "$cache" "$image_debs"
  pkgs=$(grep -v '^#' "$here/packages.txt" | xargs | tr ' ' ',')
  # The key names how the root is made too: one made another way is not reused.
  pkghash=$({ echo "mmdebstrap minbase merged-usr nodoc $image_suite $pkgs"; cat "$image_lib_dir"/image-build-bin/*; } | sha256sum | cut -c1-16)
  image_pristine="$cache/root-$pkghash.tar"
  image_root_built=0
  if [ -f "$image_pristine" ]; then
    step 1 "Debian root: cached ($image_pristine)"
    return
  fi
  step 1 "mmdebstrap $image_suite with $(echo "$pkgs" | tr ',' '\n' | wc -l) packages (cached ones are not downloaded again)"
  tmp=$(mktemp -d "$cache/mmdebstrap.XXXX")
  image_scratch "$tmp"
  chmod 755 "$tmp" # apt downloads as _apt, which must reach the root's lists
  # shellcheck disable=SC2064 # expand tmp now: it is local to this function
  trap "image_scratch_done '$tmp'" EXIT
  # mmdebstrap resolves and downloads with apt (pipelined, where debootstrap
  # fetches one package at a time), and installs with dpkg's force-unsafe-io
  # (no fsync per file: a root that is tarred next needs none). Manual
  # pages, documentation (not the copyright files) and message translations
  # are not installed: no image has man or a locale but C, and they were a
  # third of the root's files. Its merged-usr hook makes /usr merged as
  # debootstrap does (with usr-is-merged, not usrmerge and its perl). The
  # package cache is linked (or copied) into the root's apt archive before
  # (so that apt downloads only what is missing) and what is new copied back
  # after; the root is built under TMP, in memory where the machine has it
  # (image_scratch). The filter goes into dpkg's configuration only once the
  # essential packages are extracted (the extract hook, which removes what
  # it would have left out): given with --dpkgopt, mmdebstrap pipes each of
  # them through mmtarfilter, a python3 start and a tar parse in Python
  # each, 11 of its 80 CPU-s here (38 with pyenv's python3 first in PATH);
  # the root is the same. The packages asked for are downloaded while the
  # essential ones install (a second extract hook starts apt's download
  # only, in the background, holding a lock that the essential hook waits
  # for; without apt's locks, as the essential packages' dpkg holds
  # dpkg's and nothing else touches the archive before the hook has
  # waited), not after them: apt then finds them in its archive, each
  # checked against the signed index as a download is. While they install,
  # image-build-bin's ucf and postconf stand before Debian's in
  # /usr/local/sbin (first in the PATH apt gives dpkg, DPkg::Path), saving
  # the debconf frontend ucf starts 24 times for dovecot and postconf's
  # waits for main.cf to age (see each); they, and the apt configuration
  # file that holds that one option, are removed before the root is packed.
  TMPDIR=$tmp mmdebstrap --variant=minbase --include="$pkgs" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt=force-unsafe-io --skip=essential/unlink \
    --extract-hook='printf "%s\n" "path-exclude=/usr/share/man/*" "path-exclude=/usr/share/locale/*/LC_MESSAGES/*.mo" \
        "path-exclude=/usr/share/doc/*" "path-include=/usr/share/doc/*/copyright" >>"$1/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
      cd "$1/usr/share" && rm -rf man/* && find locale -path "locale/*/LC_MESSAGES/*.mo" -delete &&
      find doc ! -type d ! -path "doc/*/copyright" -delete && find doc -mindepth 1 -type d -empty -delete' \
    --extract-hook="exec 9>'$tmp/prefetch.lock' && flock 9 && { APT_CONFIG=\"\$MMDEBSTRAP_APT_CONFIG\" \
        apt-get --yes -q --download-only -o Debug::NoLocking=true install $(echo "$pkgs" | tr ',' ' ') </dev/null >'$tmp/prefetch.log' 2>&1 & }" \
    --essential-hook="flock '$tmp/prefetch.lock' true" \
    --essential-hook="cp '$image_lib_dir/image-build-bin/ucf' '$image_lib_dir/image-build-bin/postconf' \"\$1/usr/local/sbin/\"" \
    --aptopt='DPkg::Path "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"' \
    --customize-hook="rm \"\$1/usr/local/sbin/ucf\" \"\$1/usr/local/sbin/postconf\" \"\$1/etc/apt/apt.conf.d/99mmdebstrap\"" \
    --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"; cp -al '$image_debs/.' \"\$1/var/cache/apt/archives/\" 2>/dev/null || cp -a '$image_debs/.' \"\$1/var/cache/apt/archives/\"" \
    --customize-hook="for f in \"\$1\"/var/cache/apt/archives/*.deb; do [ -e '$image_debs/'\"\${f##*/}\" ] || cp \"\$f\" '$image_debs/'; done" \
    "$image_suite" "$tmp/root" "$image_mirror" 2>&1 \
    | awk '/^I: (running apt-get update|downloading|extracting|installing|success)/ {print "   " substr($0, 4); fflush(); next} /^(I: |Chrooting |Setting up |Unpacking |Selecting |Preparing |Processing |\(Reading |removed |rmdir: |Adding |Creating |Created |Running |update-alternatives: |debconf: |invoke-rc.d: |Warning: The home dir|Reading |Building |The following |  |[0-9]+ upgraded|Need to get |After this operation|dpkg-deb: building )/ {next} {print; fflush()}'
  tar -C "$tmp/root" -cf "$image_pristine.part" .
  mv "$image_pristine.part" "$image_pristine"
  image_scratch_done "$tmp"
  trap - EXIT
  image_root_built=1
}

# image_unpack WORK HERE: unpacks the root (image_root first) into
# WORK/root and copies HERE/overlay over it.
image_unpack() {
  mkdir "$1/root"
  tar -C "$1/root" -xf "$image_pristine"
  cp -a "$2/overlay/." "$1/root/"
}

# image_configure WORK HERE: runs HERE/configure.sh in a chroot of
# WORK/root, with /proc mounted for it. The caller's EXIT trap unmounts
# WORK/root/proc should the script fail.
image_configure() {
  mount -t proc proc "$1/root/proc"
  chroot "$1/root" /bin/sh -s <"$2/configure.sh"
  umount "$1/root/proc"
}

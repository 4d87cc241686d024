#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build the vmm-demo Linux guest bundle from Debian packages.
#
#   mkguest.sh OUTDIR        (make guest: OUTDIR = build/guest)
#
# Downloads (never installs) Debian's cloud kernel (the versioned package
# linux-image-cloud-amd64 depends on) and busybox-static, unpacks them into
# OUTDIR/pkg/ and writes into OUTDIR:
#   vmlinuz            the kernel bzImage
#   vmlinux            the ELF kernel extracted from it (extract-vmlinux.sh)
#   initramfs.cpio.gz  busybox, the virtio modules, /init (bundle/init)
#   disk.ext4          64 MiB ext4 holding hello.txt
#   VERSION            the package versions used
# A second run with the same package versions and bundle sources only
# checks and returns; nothing touches the network then.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
meta=linux-image-cloud-amd64
bbpkg=busybox-static
# The modules /init loads (their dependencies are added), by module name.
want_mods="virtio_ring virtio virtio_mmio virtio_blk virtio_console virtio_rng"

log() {
	echo "mkguest: $*"
}

die() {
	echo "mkguest: error: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: mkguest.sh OUTDIR"
for t in apt-get apt-cache dpkg dpkg-deb cpio gzip mke2fs readelf objcopy \
	od sha256sum; do
	command -v "$t" >/dev/null || die "'$t' not found (Debian 12 host expected)"
done
mkdir -p "$1"
out=$(cd "$1" && pwd)
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "host architecture is $arch; the bundle is amd64"

# The versioned kernel package the metapackage's candidate depends on, or
# nothing when apt does not know the metapackage.
kernel_package() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[0-9][^ <>]*-cloud-amd64\)$/\1/p' |
		head -n 1
}

# Candidate versions of packages as "name version" lines ((none) if unknown).
candidates() {
	apt-cache policy "$@" 2>/dev/null |
		sed -n 's/^\([^ ].*\):$/\1/p; s/^ *Candidate: //p' | paste - -
}

# Sets kpkg, kver, bbver; 1 when apt's package lists lack one of them.
resolve() {
	local c
	kpkg=$(kernel_package)
	[ -n "$kpkg" ] || return 1
	c=$(candidates "$kpkg" "$bbpkg")
	kver=$(awk -v p="$kpkg" '$1 == p { print $2 }' <<<"$c")
	bbver=$(awk -v p="$bbpkg" '$1 == p { print $2 }' <<<"$c")
	[ -n "$kver" ] && [ "$kver" != "(none)" ] &&
		[ -n "$bbver" ] && [ "$bbver" != "(none)" ]
}

resolve_packages() {
	resolve && return 0
	log "apt's package lists lack $meta, its kernel package or $bbpkg: running apt-get update"
	apt-get update -q || die "apt-get update failed: cannot reach the Debian repositories (see above; check /etc/apt/sources.list and the network)"
	resolve || die "after apt-get update apt still does not know $meta (with a linux-image-*-cloud-amd64 dependency) and $bbpkg: cannot reach the Debian repositories, or they lack these packages (check /etc/apt/sources.list and the network)"
}

# Download PKG at VERSION into $out/debs unless that .deb is already there.
fetch_deb() {
	local pkg=$1 ver=$2 deb dl log_file
	deb="$out/debs/${pkg}_${ver//:/%3a}_${arch}.deb"
	if [ -f "$deb" ] && dpkg-deb -f "$deb" Version >/dev/null 2>&1; then
		log "have $(basename "$deb")"
		return 0
	fi
	mkdir -p "$out/debs"
	dl=$(mktemp -d "$out/debs/.dl.XXXXXX")
	# apt downloads as the _apt user: let it write here (no sandbox warning).
	id _apt >/dev/null 2>&1 && chown _apt "$dl"
	log_file="$dl/apt.log"
	log "apt-get download $pkg=$ver"
	if ! (cd "$dl" && apt-get download -q "$pkg=$ver") >"$log_file" 2>&1; then
		sed 's/^/  apt: /' "$log_file" >&2
		rm -rf "$dl"
		die "apt-get download $pkg=$ver failed: cannot reach the Debian repositories (check the network and /etc/apt/sources.list)"
	fi
	[ -f "$dl/$(basename "$deb")" ] || {
		ls -l "$dl" >&2
		die "apt-get download $pkg=$ver did not produce $(basename "$deb")"
	}
	rm -f "$out/debs/${pkg}"_*.deb
	mv "$dl/$(basename "$deb")" "$deb"
	rm -rf "$dl"
	log "downloaded $(basename "$deb") ($(stat -c %s "$deb") bytes)"
}

unpack() {
	local stamp="$out/pkg/.unpacked" want
	want=$(printf '%s\n' "$@" | xargs -n 1 basename)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		log "pkg/ already holds ${want//$'\n'/ }"
		return 0
	fi
	rm -rf "$out/pkg"
	mkdir -p "$out/pkg"
	for deb; do
		dpkg-deb -x "$deb" "$out/pkg" || die "dpkg-deb -x $deb failed"
	done
	# The Makefile includes every build/**/*.d (dependency files): a
	# directory of that name (busybox's initramfs-tools conf-hooks.d)
	# would stop make. Nothing here needs them.
	find "$out/pkg" -depth -type d -name '*.d' -exec rm -rf {} +
	echo "$want" >"$stamp"
	log "unpacked into pkg/: ${want//$'\n'/ }"
}

# Module name (as in depends=, '-' as '_') to its file under $moddir.
declare -A mod_path=() mod_done=()
mod_order=()

index_modules() {
	local f n
	while IFS= read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		mod_path[${n//-/_}]=$f
	done < <(cd "$moddir" && find kernel -name '*.ko' -o -name '*.ko.xz' \
		-o -name '*.ko.zst' -o -name '*.ko.gz')
}

# Copy module file SRC (relative to $moddir) into the initramfs tree,
# decompressed (busybox insmod may not read .ko.xz); print the new path.
copy_module() {
	local src=$1 dst
	dst="$initrd/lib/modules/$krel/${src%.*}"
	case $src in
	*.ko) dst="$initrd/lib/modules/$krel/$src" ;;
	esac
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.ko) cp "$moddir/$src" "$dst" ;;
	*.ko.xz) xz -dc "$moddir/$src" >"$dst" ;;
	*.ko.zst) zstd -dcq "$moddir/$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$moddir/$src" >"$dst" ;;
	esac
	echo "$dst"
}

# Depth-first: dependencies first, each module once.
add_module() {
	local name=${1//-/_} src dst deps d
	case ${mod_done[$name]:-} in
	loaded) return 0 ;;
	busy) die "module dependency cycle through $name" ;;
	esac
	src=${mod_path[$name]:-}
	if [ -z "$src" ]; then
		if grep -q "/${name}.ko\$\|/${name//_/-}.ko\$" "$moddir/modules.builtin"; then
			log "module $name is built into the kernel"
			mod_done[$name]=loaded
			return 0
		fi
		die "module $name not found under $moddir (nor in modules.builtin)"
	fi
	mod_done[$name]=busy
	dst=$(copy_module "$src")
	deps=$(objcopy -O binary --only-section=.modinfo "$dst" /dev/stdout |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' ')
	for d in $deps; do
		add_module "$d"
	done
	mod_done[$name]=loaded
	mod_order+=("$krel/${dst#"$initrd/lib/modules/$krel/"}")
}

build_initramfs() {
	local bb="$out/pkg/bin/busybox" a m tmp
	[ -x "$bb" ] || die "$bb missing from the $bbpkg package"
	initrd="$out/initramfs"
	rm -rf "$initrd"
	mkdir -p "$initrd"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,mnt,tmp,root}
	cp "$bb" "$initrd/bin/busybox"
	for a in $("$bb" --list-full); do
		[ "$a" = bin/busybox ] || [ -e "$initrd/$a" ] ||
			ln -s /bin/busybox "$initrd/$a"
	done
	install -m 0755 "$here/init" "$initrd/init"
	# The kernel's built-in initramfs has /dev/console; add it when we can.
	[ "$(id -u)" -ne 0 ] || mknod -m 600 "$initrd/dev/console" c 5 1

	moddir="$out/pkg/lib/modules/$krel"
	[ -d "$moddir/kernel" ] || die "$moddir/kernel missing from $kpkg"
	index_modules
	for m in $want_mods; do
		add_module "$m"
	done
	printf '%s\n' "${mod_order[@]}" >"$initrd/etc/modules.load"
	log "initramfs modules (load order):" "${mod_order[@]##*/}"

	tmp="$out/initramfs.cpio.gz.tmp"
	(cd "$initrd" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n >"$tmp"
	mv "$tmp" "$out/initramfs.cpio.gz"
}

build_disk() {
	local root="$out/disk-root" tmp="$out/disk.ext4.tmp"
	rm -rf "$root"
	mkdir -p "$root"
	echo "hello from the vmm-demo guest disk" >"$root/hello.txt"
	rm -f "$tmp"
	mke2fs -q -F -t ext4 -L vmmdemo -d "$root" "$tmp" 64M >/dev/null ||
		die "mke2fs of disk.ext4 failed"
	mv "$tmp" "$out/disk.ext4"
}

start=$SECONDS
resolve_packages
log "kernel: $kpkg $kver (from $meta); busybox: $bbpkg $bbver"
fetch_deb "$kpkg" "$kver"
fetch_deb "$bbpkg" "$bbver"
kdeb="$out/debs/${kpkg}_${kver//:/%3a}_${arch}.deb"
bbdeb="$out/debs/${bbpkg}_${bbver//:/%3a}_${arch}.deb"

# Everything below depends only on the two packages and the bundle sources.
key=$(
	echo "$kpkg $kver $bbpkg $bbver"
	cat "$here/mkguest.sh" "$here/extract-vmlinux.sh" "$here/init" | sha256sum
)
outputs="vmlinuz vmlinux initramfs.cpio.gz disk.ext4 VERSION"
uptodate=1
[ -f "$out/.key" ] && [ "$(cat "$out/.key")" = "$key" ] || uptodate=0
for f in $outputs; do
	[ -s "$out/$f" ] || uptodate=0
done
if [ "$uptodate" = 1 ]; then
	log "$out is up to date ($kpkg $kver)"
	exit 0
fi
rm -f "$out/.key"

unpack "$kdeb" "$bbdeb"
set -- "$out"/pkg/boot/vmlinuz-*
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	die "expected one pkg/boot/vmlinuz-* in $kpkg, found: $*"
fi
krel=${1##*/vmlinuz-}
cp "$1" "$out/vmlinuz"
log "vmlinuz: $krel ($(stat -c %s "$out/vmlinuz") bytes)"
bash "$here/extract-vmlinux.sh" "$out/vmlinuz" "$out/vmlinux" | sed 's/^/mkguest: /'
build_initramfs
log "initramfs.cpio.gz: $(stat -c %s "$out/initramfs.cpio.gz") bytes"
build_disk
log "disk.ext4: 64 MiB ext4 with hello.txt"
cat >"$out/VERSION" <<EOF
kernel_package=$kpkg
kernel_version=$kver
kernel_release=$krel
busybox_package=$bbpkg
busybox_version=$bbver
EOF
echo "$key" >"$out/.key"
log "done in $((SECONDS - start)) s: $out/{${outputs// /,}}"

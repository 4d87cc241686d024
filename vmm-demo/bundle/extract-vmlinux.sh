#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Extract the ELF vmlinux from an x86 bzImage using its setup header.
#
#   extract-vmlinux.sh BZIMAGE OUT
#
# The setup header (Documentation/x86/boot.rst) gives setup_sects at 0x1f1;
# the protected-mode part starts at (setup_sects + 1) * 512 (setup_sects 0
# means 4). payload_offset (0x248) and payload_length (0x24c), both u32, are
# relative to that start. The payload is the compressed vmlinux; every
# format but gzip ends with the uncompressed size as a little-endian u32,
# which is stripped before decompressing and compared with the result.
set -euo pipefail

die() {
	echo "extract-vmlinux: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: extract-vmlinux.sh BZIMAGE OUT"
img=$1
out=$2
[ -f "$img" ] || die "$img: no such file"

# u8/u16/u32 little-endian at a byte offset of a file, in decimal.
rd() {
	local v
	v=$(od -An -tu"$2" -j "$3" -N "$2" "$1" | tr -d ' \n')
	[ -n "$v" ] || die "$1: cannot read $2 bytes at offset $3 (file too short)"
	echo "$v"
}

size=$(stat -c %s "$img")
[ "$size" -ge 1024 ] || die "$img: $size bytes, too short for a bzImage"
magic=$(od -An -c -j $((0x202)) -N 4 "$img" | tr -d ' \n')
[ "$magic" = HdrS ] || die "$img: no 'HdrS' setup header magic at 0x202 (found '$magic'): not a bzImage"
proto=$(rd "$img" 2 $((0x206)))
[ "$proto" -ge $((0x208)) ] ||
	die "$img: boot protocol $(printf '0x%x' "$proto") has no payload fields (need >= 0x208)"

sects=$(rd "$img" 1 $((0x1f1)))
[ "$sects" -ne 0 ] || sects=4
pm=$(((sects + 1) * 512))
poff=$(rd "$img" 4 $((0x248)))
plen=$(rd "$img" 4 $((0x24c)))
start=$((pm + poff))
[ "$plen" -ge 8 ] || die "$img: payload_length $plen too small"
[ $((start + plen)) -le "$size" ] ||
	die "$img: payload [$start, +$plen) runs past the end of the file ($size bytes)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/extract-vmlinux.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dd if="$img" of="$tmp/payload" iflag=skip_bytes,count_bytes skip="$start" \
	count="$plen" status=none

hex=$(od -An -tx1 -N 6 "$tmp/payload" | tr -d ' \n')
case $hex in
1f8b*) fmt=gzip tool="gzip -dc" ;;
fd377a585a00) fmt=xz tool="xz -dc --single-stream" ;;
28b52ffd*) fmt=zstd tool="zstd -dcq" ;;
02214c18*) fmt=lz4 tool="lz4 -dcq" ;;
425a68*) fmt=bzip2 tool="bzip2 -dc" ;;
5d0000*) fmt=lzma tool="xz -dc --format=lzma" ;;
894c5a4f*) fmt=lzo tool="lzop -dc" ;;
*) die "$img: unknown compression magic $hex at payload offset $start" ;;
esac
command -v "${tool%% *}" >/dev/null ||
	die "$img: $fmt payload needs '${tool%% *}' (apt-get install it)"

want=
if [ "$fmt" != gzip ]; then
	want=$(rd "$tmp/payload" 4 $((plen - 4)))
	head -c $((plen - 4)) "$tmp/payload" >"$tmp/packed"
	mv "$tmp/packed" "$tmp/payload"
fi
$tool <"$tmp/payload" >"$tmp/vmlinux" || die "$img: $fmt decompression failed"
got=$(stat -c %s "$tmp/vmlinux")
if [ -n "$want" ] && [ "$got" -ne "$want" ]; then
	die "$img: decompressed $got bytes, the payload's size trailer says $want"
fi

hdr=$(readelf -h "$tmp/vmlinux" 2>&1) || die "$img: the $fmt payload is not an ELF file: $hdr"
grep -q 'Class:[[:space:]]*ELF64' <<<"$hdr" || die "$img: the payload is not ELF64"
grep -q 'Machine:.*X86-64' <<<"$hdr" || die "$img: the payload is not an x86-64 ELF"
mv "$tmp/vmlinux" "$out"
echo "extract-vmlinux: $img: $fmt payload at $start ($plen bytes) -> $out ($got bytes, ELF64 x86-64)"

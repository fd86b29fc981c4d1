#!/usr/bin/env bash
# A distribution kernel for the tests that need kernel features this
# machine's kernel lacks (the netem qdisc): internal/vmtest boots it under
# qemu with the package's tests as init.
# up: install qemu from Debian's packages, unpack Debian's current kernel
# package (vmlinuz and its modules) into a cache, export their paths.
# down: nothing to clean up (the cache is kept for the next run).
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/nomosrun/vmkernel

case "${1:-}" in
up)
	command -v qemu-system-x86_64 >/dev/null || apt_install qemu-system-x86
	command -v apt-cache >/dev/null || { echo "40-vmkernel: needs apt (Debian)" >&2; exit 1; }
	apt-get update -qq
	# The metapackage names the current kernel package, e.g. linux-image-6.1.0-57-amd64.
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
	[[ -n $pkg ]] || { echo "40-vmkernel: no kernel package behind linux-image-amd64" >&2; exit 1; }
	dir=$cache/$pkg
	if [[ ! -d $dir/boot ]]; then
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null)
		mkdir -p "$dir.partial"
		dpkg-deb -x "$tmp"/*.deb "$dir.partial"
		rm -rf "$tmp" "$dir"
		mv "$dir.partial" "$dir"
	fi
	kernel=$(ls "$dir"/boot/vmlinuz-*)
	modules=$(ls -d "$dir"/lib/modules/*)
	echo "kernel $(basename "$kernel"), $(qemu-system-x86_64 --version | head -1)"
	{
		echo "export NOMOS_VM_KERNEL=$kernel"
		echo "export NOMOS_VM_MODULES=$modules"
	} >>"${NOMOS_CI_ENV:-/dev/null}"
	;;
down) ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac

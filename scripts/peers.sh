#!/usr/bin/env bash
# Install the peer tools the tests use as oracles (DESIGN.md, "Peers used as test oracles").
# As root with apt-get: installs what is missing. Otherwise: says which are missing.
# Each issue that brings a new peer adds its package and command here.
set -u
PACKAGES=(
  ewf-tools sleuthkit coreutils b3sum dc3dd poppler-utils qpdf libxml2-utils
  dosfstools mtools e2fsprogs util-linux hashdeep ntfs-3g exfatprogs qemu-utils
  openssl attr libfuse2 hdparm smartmontools nvme-cli gddrescue fdisk cryptsetup-bin exfat-fuse fuse3 lvm2 xorriso
  postgresql
  libnss3-tools
  softhsm2 opensc
)
COMMANDS=(
  ewfverify ewfinfo ewfacquire img_stat fls icat md5sum sha1sum sha256sum sha512sum b3sum
  dc3dd pdfsig pdftotext pdffonts pdfdetach pdfinfo pdfimages qpdf xmllint mkfs.vfat mcopy mkfs.ext4 losetup hashdeep
  mkntfs mkfs.exfat qemu-img openssl setfattr sfdisk cryptsetup mount.exfat-fuse fusermount debugfs istat
  ddrescue ddrescuelog hdparm smartctl mount umount pvcreate vgcreate vgcfgbackup vgcfgrestore lvs pvs
  xorriso ntfscp mmd ewfexport
  pg_ctl initdb
  certutil
  softhsm2-util pkcs11-tool
)
# Debian installs the PostgreSQL server programs under /usr/lib/postgresql/N/bin, not on PATH
# (tests/pgserver.py looks there too).
found_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null 2>&1
}
missing_cmds() {
  local m=()
  for c in "${COMMANDS[@]}"; do found_cmd "$c" || m+=("$c"); done
  echo "${m[@]:-}"
}
missing=$(missing_cmds)
if [ -z "$missing" ]; then
  echo "peers: all present"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "peers: installing with apt-get (missing: $missing)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/tmp/evidencekit-peers.log 2>&1; then
    apt-get update -qq >>/tmp/evidencekit-peers.log 2>&1
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >>/tmp/evidencekit-peers.log 2>&1 \
      || { echo "peers: apt-get failed, see /tmp/evidencekit-peers.log"; tail -5 /tmp/evidencekit-peers.log; }
  fi
  missing=$(missing_cmds)
fi
if [ -n "$missing" ]; then
  echo "peers: missing: $missing (tests that need them skip, or fail with EVIDENCEKIT_REQUIRE_PEERS=1)"
else
  echo "peers: all present"
fi
exit 0

#!/bin/sh
# The Debian package as `make deb` makes it (cpack -G DEB from the build
# folder), built into a temporary folder and read with dpkg-deb: its
# control data (name, dependencies, the postinst that creates the system
# user cydex) and its files (the four programs, the systemd units naming
# /usr/bin, the man pages, the bash completion, the example configurations);
# a program taken out of it runs. Usage: deb_test.sh BUILDDIR; exit 77
# (skipped) without dpkg-deb, cpack or scdoc (the man pages).
set -u
build=$1
command -v dpkg-deb >/dev/null 2>&1 || { echo "no dpkg-deb: skipped"; exit 77; }
cpack=$(command -v cpack) || { echo "no cpack: skipped"; exit 77; }
command -v scdoc >/dev/null 2>&1 || { echo "no scdoc, so no man pages to pack: skipped"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cydex-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

(cd "$build" && "$cpack" -G DEB -B "$tmp" >"$tmp/cpack.log" 2>&1) || {
    cat "$tmp/cpack.log"
    echo "FAIL: cpack"
    exit 1
}
deb=$(ls "$tmp"/cydex_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { cat "$tmp/cpack.log"; echo "FAIL: no cydex_*.deb made"; exit 1; }

info=$(dpkg-deb -I "$deb")
for want in "Package: cydex" "Section: net" "libzmq5" "libsodium23" "liblmdb0" "passwd"; do
    echo "$info" | grep -q "$want" || fail "dpkg-deb -I has no '$want'"
done
dpkg-deb -e "$deb" "$tmp/control"
[ -x "$tmp/control/postinst" ] || fail "no executable postinst"
grep -q "useradd --system" "$tmp/control/postinst" || fail "the postinst creates no system user"
grep -q " cydex$" "$tmp/control/postinst" || fail "the postinst's user is not cydex"
sh -n "$tmp/control/postinst" || fail "the postinst is not sh"

files=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for want in ./usr/bin/cydex ./usr/bin/cydex-audit ./usr/bin/cydex-node ./usr/bin/cydex-broker \
    ./usr/lib/systemd/system/cydex-node@.service ./usr/lib/systemd/system/cydex-broker@.service \
    ./usr/share/man/man1/cydex.1.gz ./usr/share/man/man1/cydex-audit.1.gz \
    ./usr/share/man/man8/cydex-node.8.gz ./usr/share/man/man8/cydex-broker.8.gz \
    ./usr/share/man/man5/cydex-node.conf.5.gz ./usr/share/man/man5/cydex-broker.conf.5.gz \
    ./usr/share/bash-completion/completions/cydex \
    ./usr/share/bash-completion/completions/cydex-audit \
    ./usr/share/bash-completion/completions/cydex-node \
    ./usr/share/bash-completion/completions/cydex-broker \
    ./usr/share/doc/cydex/examples/node.conf ./usr/share/doc/cydex/examples/broker.conf; do
    echo "$files" | grep -qx "$want" || fail "the package has no $want"
done

dpkg-deb -x "$deb" "$tmp/root"
for unit in cydex-node@.service cydex-broker@.service; do
    prog=${unit%@.service}
    grep -q "^ExecStart=/usr/bin/$prog -c /etc/cydex/%i.conf$" \
        "$tmp/root/usr/lib/systemd/system/$unit" || fail "$unit does not start /usr/bin/$prog"
    grep -q "^User=cydex$" "$tmp/root/usr/lib/systemd/system/$unit" || fail "$unit not as cydex"
done
"$tmp/root/usr/bin/cydex" --version >/dev/null || fail "the packaged cydex does not run"
zcat "$tmp/root/usr/share/man/man8/cydex-node.8.gz" | grep -q '^\.TH "cydex-node" "8"' ||
    fail "cydex-node.8.gz is not the man page"
echo "deb_test: $fails failed"
[ "$fails" = 0 ]

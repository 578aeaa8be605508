#!/bin/sh
# The man pages as man shows them: each renders without a warning (groff
# -ww), and they say what the programs do: cydex(1) names every command
# `cydex --help` lists, cydex-audit(1) every command of cydex-audit, and
# the configuration pages every key the daemons read.
# Usage: man_test.sh MANDIR BINDIR SOURCEDIR; exit 77 (skipped) without
# scdoc (then the pages are not built) or without groff.
set -u
man=$1 bin=$2 src=$3
command -v groff >/dev/null 2>&1 || { echo "no groff: skipped"; exit 77; }
command -v scdoc >/dev/null 2>&1 || { echo "no scdoc, so no man pages: skipped"; exit 77; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
for page in cydex.1 cydex-audit.1 cydex-node.8 cydex-broker.8 cydex-node.conf.5 \
    cydex-broker.conf.5; do
    f=$man/$page
    [ -f "$f" ] || { fail "$page was not built (configure again once scdoc is installed)"; continue; }
    warnings=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
    [ -z "$warnings" ] || fail "$page: $warnings"
    name=${page%.*}
    section=${page##*.}
    head -n 20 "$f" | grep -q "^\.TH \"$name\" \"$section\"" || fail "$page has no .TH $name $section"
    [ -f "$f.gz" ] || fail "$page.gz (what is installed) was not built"
done
text() { groff -man -Tutf8 "$man/$1" 2>/dev/null | sed 's/.\x08//g'; }
cydex=$(text cydex.1)
for c in $("$bin/cydex" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 && /^  / {print $1}'); do
    echo "$cydex" | grep -q "^       $c" || fail "cydex(1) does not describe '$c'"
done
audit=$(text cydex-audit.1)
for c in $("$bin/cydex-audit" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 && /^  / {print $1}'); do
    echo "$audit" | grep -q "^       $c" || fail "cydex-audit(1) does not describe '$c'"
done
for pair in node:node/config.c broker:broker/config.c; do
    who=${pair%%:*}
    page=$(text "cydex-$who.conf.5")
    for k in $(grep -o 'strcmp(\(key\|name\), "[a-z_]*")' "$src/${pair#*:}" | sed 's/.*"\(.*\)")/\1/' | sort -u); do
        echo "$page" | grep -q "^       $k\b" || fail "cydex-$who.conf(5) does not describe '$k'"
    done
done
echo "man_test: $fails failed"
[ "$fails" = 0 ]

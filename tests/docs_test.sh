#!/bin/bash
# docs_test.sh BINDIR SRCDIR: runs every example of the README and of docs/.
#
# In README.md and docs/*.md, a ```sh block is a set of commands that runs as
# written, in a fresh temporary folder with BINDIR on PATH; a file's sh blocks
# run in sequence in one folder, under `set -e`, so a later block may use what
# an earlier one made. An ```ini block whose first line is `# NAME` (e.g.
# `# node.conf`) is a configuration example: it is written to NAME in that
# folder, at its place in the sequence, for the blocks after it to check with
# `cydex-node -T` or `cydex-broker -T`. Blocks fenced otherwise (```text,
# ```console, ```json) are output or reference and are not run. What must hold:
# every daemon a block starts is stopped by its PID when the file's blocks
# end (a `cydex demo --keep` writes its output to a file named *.out, whose
# "Stop them with: kill PIDS" line names them), and each file is bounded in time.
set -u
BINDIR=$(cd "$1" && pwd)
SRCDIR=$(cd "$2" && pwd)
export PATH="$BINDIR:$PATH"
unset CYDEX_NODE
export CYDEX_RUNTIME_DIR=/nonexistent-cydex-runtime
top=$(mktemp -d "${TMPDIR:-/tmp}/cydex-docs.XXXXXX")
stop_demos() {
    for out in $(find "$1" -name '*.out' 2>/dev/null); do
        pids=$(sed -n 's/.*Stop them with: kill //p' "$out")
        for p in $pids; do
            kill "$p" 2>/dev/null
        done
    done
}
trap 'stop_demos "$top"; rm -rf "$top"' EXIT

# extract FILE SCRIPT: writes FILE's runnable blocks as one script.
extract() {
    awk '
    BEGIN { mode = ""; n = 0 }
    /^```/ {
        if (mode == "") {
            lang = substr($0, 4)
            if (lang == "sh") { mode = "sh"; n++; printf "echo \"--- block %d (line %d)\" >&2\n", n, NR; next }
            if (lang == "ini") { mode = "ini0"; next }
            mode = "skip"; next
        }
        if (mode == "ini") print "CDX_DOCS_EOF"
        mode = ""; next
    }
    mode == "sh" { print; next }
    mode == "ini0" {
        if ($0 ~ /^# [A-Za-z0-9._\/-]+$/) {
            name = substr($0, 3)
            printf "mkdir -p \"$(dirname %s)\"; cat > %s <<'"'"'CDX_DOCS_EOF'"'"'\n", name, name
            print; mode = "ini"
        } else mode = "skip"
        next
    }
    mode == "ini" { print; next }
    ' "$1" > "$2"
}

fail=0
# Every relative link of the README and docs/ names a file of the repository.
for md in "$SRCDIR"/README.md "$SRCDIR"/docs/*.md; do
    for target in $(grep -o '](\([^)#:]*\)\(#[^)]*\)\?)' "$md" | sed 's/^](//; s/#.*//; s/)$//'); do
        [ -n "$target" ] || continue
        if [ ! -e "$(dirname "$md")/$target" ]; then
            echo "FAIL: $md links to $target, which does not exist" >&2
            fail=1
        fi
    done
done
if grep -n 'DESIGN\.md' "$SRCDIR/README.md"; then
    echo "FAIL: README.md names DESIGN.md, which is not in the repository" >&2
    fail=1
fi
for md in "$SRCDIR"/README.md "$SRCDIR"/docs/*.md; do
    name=$(basename "$md" .md)
    dir="$top/$name"
    mkdir -p "$dir"
    extract "$md" "$top/$name.sh"
    grep -q . "$top/$name.sh" || continue
    echo "=== $md"
    (cd "$dir" && timeout -k 5 90 bash -e "$top/$name.sh")
    rc=$?
    stop_demos "$dir"
    if [ $rc -ne 0 ]; then
        echo "FAIL: $md: its examples exit $rc (the last block named above)" >&2
        fail=1
    else
        echo "ok: $md"
    fi
done
exit $fail

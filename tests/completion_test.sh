#!/bin/bash
# The bash completion of the four programs as an operator meets it: each
# completion asked with COMP_WORDS and COMP_CWORD as bash sets them, and
# what it offers checked. The commands it offers are the ones the programs'
# --help lists. Usage: completion_test.sh SCRIPT BINDIR
set -u
script=$1 bin=$2
# shellcheck disable=SC1090
source "$script" || { echo "cannot source $script"; exit 1; }
fails=0 checks=0

# offers CWORD WORD... -- WANT...: completing word CWORD of WORD... offers
# every WANT (and with "only", nothing else).
offers() {
    local only=0
    if [[ $1 == only ]]; then only=1; shift; fi
    local words=() want=()
    while [[ $1 != -- ]]; do words+=("$1"); shift; done
    shift
    want=("$@")
    COMP_WORDS=("${words[@]}")
    COMP_CWORD=$((${#words[@]} - 1))
    COMP_LINE="${words[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    local fn
    fn=$(complete -p "${words[0]}" 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
    checks=$((checks + 1))
    if [[ -z $fn ]]; then
        echo "FAIL: no completion registered for ${words[0]}"
        fails=$((fails + 1))
        return
    fi
    "$fn" "${words[0]}" "${words[-1]}" "${words[-2]:-}"
    local w got=" ${COMPREPLY[*]} "
    for w in "${want[@]}"; do
        if [[ $got != *" $w "* ]]; then
            echo "FAIL: '${words[*]}' offers [${COMPREPLY[*]}], not $w"
            fails=$((fails + 1))
            return
        fi
    done
    if ((only)) && ((${#COMPREPLY[@]} != ${#want[@]})); then
        echo "FAIL: '${words[*]}' offers [${COMPREPLY[*]}], only [${want[*]}] wanted"
        fails=$((fails + 1))
    fi
}

# cydex: commands (every one --help lists), options, values.
mapfile -t listed < <("$bin/cydex" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 && /^  / {print $1}')
((${#listed[@]} >= 10)) || { echo "FAIL: cydex --help lists no commands"; exit 1; }
offers cydex "" -- "${listed[@]}"
offers only cydex pu -- publish
offers cydex --node ipc:///run/cydex/FR.control li -- list
offers cydex publish --t -- --topic --tlp --title --to
offers only cydex publish --tlp A -- AMBER AMBER+STRICT
offers only cydex publish --severity m -- minor moderate
offers only cydex ack --stage not -- not-affected
offers cydex ack --stage "" -- received investigating not-affected mitigated assistance-offered rejected
offers only cydex keygen --role a -- auditor admin
offers cydex roster "" -- init next add admin threshold rotate revoke sign verify show publish
offers only cydex roster admin "" -- add remove
offers only cydex roster rotate roster.bin EE --c -- --card
offers only cydex roster publish --a -- --again
offers cydex list --u -- --unacked
offers cydex tail --w -- --wait-node
offers only cydex log c -- checkpoint
offers cydex demo --k -- --keep
offers only cydex convert --from m -- misp
offers only cydex convert --to c -- cydex cap
offers only cydex publish --to a -- all
offers only cydex tail --format s -- stix

# cydex-audit
mapfile -t audits < <("$bin/cydex-audit" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 && /^  / {print $1}')
((${#audits[@]} >= 5)) || { echo "FAIL: cydex-audit --help lists no commands"; exit 1; }
offers cydex-audit "" -- "${audits[@]}"
offers only cydex-audit v -- verify
offers only cydex-audit completeness LOG --s -- --sender
offers only cydex-audit prove i -- inclusion
offers only cydex-audit replay LOG --kind tr -- tree_head
offers only cydex-audit replay LOG --format t -- text
offers only cydex-audit replay LOG --format c -- cap
offers cydex-audit verify LOG --r -- --roster

# the daemons
offers cydex-node - -- -c -T --set --help
offers only cydex-node --set heart -- heartbeat_ms=
offers only cydex-broker --set fanout -- fanout= fanout_hwm=
offers cydex-broker "" -- -c -T --check --set

echo "completion_test: $((checks - fails)) passed, $fails failed"
((fails == 0))

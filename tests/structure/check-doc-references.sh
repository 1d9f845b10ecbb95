#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails when a comment, test, doc, script or build file cites a document that is not in the repository, and lists
# each such citation as file:line. Usage: check-doc-references.sh [SOURCE_DIR] (default: the tree it is in).
#
# What counts as a citation:
#  - a path ending in .md, e.g. docs/semantics.md, tests/fuzz/README.md or a Markdown link's target. A path with a
#    folder in it must name a file from the top of the tree or from the citing file's folder; a bare name must name
#    one in the citing file's folder, in docs/ or at the top;
#  - an old name of the team's shared documents, which are outside the repository (their cited parts are in docs/).
# Not read: build*/, node_modules/, .git, binary files and this script. Before the tree, the script runs itself on a
# small tree with known bad citations, so that a broken pattern cannot let everything pass.
set -euo pipefail

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# Old names (ERE) and where their content is now, as pairs. Split in two so that this file does not match them.
old_names=(
    'lark''-semantics' 'docs/semantics.md'
    'rtdb''-wire-protocol' 'docs/wire-protocol.md'
    'wire'' doc\b' 'docs/wire-protocol.md'
    'qt''-websockets-at-scale' 'docs/transport.md'
    'scale'' doc\b' 'docs/transport.md'
    'house'' style( §|,| pitfall)' 'docs/house-style.md'
    'scale''-out\.md' 'nothing in the repository'
    'rtdb''-rules' 'docs/rules.md'
    'rtdb''-rest' 'docs/rest.md'
    '\.\./''shared' 'nothing in the repository'
    'shared'' docs' 'the matching file in docs/'
)

# grep_tree ROOT GREP-ARGS...: grep -rnI over ROOT's source files, with paths relative to ROOT.
grep_tree() {
    local root=$1
    shift
    # No match is no finding; a grep that fails outright shows up in the self-check.
    (cd "$root" || exit 2
        grep -rnI --exclude-dir=.git --exclude=.git --exclude-dir='build*' --exclude-dir=node_modules \
            --exclude-dir=Testing --exclude-dir=.cache "$@" . || true)
}

# This script, also in a copy of the tree (the self-check and the old names in it are not citations).
is_self() { [[ $1 -ef $self ]] || { [[ ${1##*/} == "${self##*/}" ]] && cmp -s -- "$1" "$self"; }; }

is_old_name() {
    local i
    for ((i = 0; i < ${#old_names[@]}; i += 2)); do
        grep -qE -- "${old_names[i]}" <<<"$1" && return 0
    done
    return 1
}

# check ROOT: one line per bad citation, then "checked N" (the .md citations looked at).
check() {
    local root=$1 file line ref dir found checked=0 i
    while IFS=: read -r file line ref; do
        file=${file#./}
        is_self "$root/$file" && continue
        case $ref in //*) continue ;; esac # a URL, https://…/README.md
        checked=$((checked + 1))
        dir=$(dirname "$file")
        found=
        if [[ $ref == /* ]]; then # ${PROJECT_SOURCE_DIR}/docs/client.md
            [[ -f $root$ref ]] && found=1
        elif [[ $ref == */* ]]; then
            [[ -f $root/$ref || -f $root/$dir/$ref ]] && found=1
        else
            [[ -f $root/$dir/$ref || -f $root/docs/$ref || -f $root/$ref ]] && found=1
        fi
        # An old name is reported below, with where its content went.
        [[ -n $found ]] || is_old_name "$ref" || echo "$file:$line: cites $ref, which is not in the repository"
    done < <(grep_tree "$root" -oE '[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b')
    for ((i = 0; i < ${#old_names[@]}; i += 2)); do
        while IFS=: read -r file line _; do
            file=${file#./}
            is_self "$root/$file" && continue
            echo "$file:$line: cites a shared document by an old name (/${old_names[i]}/); see ${old_names[i + 1]}"
        done < <(grep_tree "$root" -E -- "${old_names[i]}")
    done
    echo "checked $checked"
}

# The self-check.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/docs" "$scratch/core" "$scratch/build/ci"
echo '# Contract' >"$scratch/docs/semantics.md"
{
    echo '// Good: docs/semantics.md §3, and a URL: https://example.org/x/NOTES.md.'
    echo '// Bad: docs/missing.md §2.'
    echo "// Bad: the ${old_names[0]}.md §7 of the shared folder."
    echo "// Bad: the ${old_names[2]%\\b} §3."
} >"$scratch/core/a.cpp"
echo 'See [the contract](semantics.md#1-the-promise), [the readme](../README.md) and [gone](gone.md).' \
    >"$scratch/docs/x.md"
echo '# Top' >"$scratch/README.md"
echo '// Not read: docs/missing.md' >"$scratch/build/ci/generated.cpp"
expected="core/a.cpp:2: cites docs/missing.md, which is not in the repository
core/a.cpp:3: cites a shared document by an old name
core/a.cpp:4: cites a shared document by an old name
docs/x.md:1: cites gone.md, which is not in the repository"
got=$(check "$scratch" | grep -v '^checked' | sed -E 's/ \(\/.*//' | sort)
if [[ $got != "$expected" ]]; then
    {
        echo "check-doc-references.sh: the self-check on a tree with known bad citations failed."
        echo "expected:"
        echo "$expected"
        echo "got:"
        echo "$got"
    } >&2
    exit 2
fi

root=$(cd "${1:-$(dirname "$self")/../..}" && pwd)
report=$(check "$root")
bad=$(grep -v '^checked' <<<"$report" || true)
checked=$(grep '^checked' <<<"$report" | cut -d' ' -f2)
if [[ -n $bad ]]; then
    echo "$bad"
    echo "check-doc-references.sh: $(wc -l <<<"$bad") citation(s) in $root name no file of the repository" >&2
    exit 1
fi
echo "check-doc-references.sh: $checked .md citations in $root all name files of the repository; no old names"

#!/usr/bin/env bash
# check-layers.sh - the source folders form layers, leaf first; a file may
# include headers of its own folder or of a lower layer, never of a higher
# one. So no two folders depend on each other (no cycles).
#
#   tools/check-layers.sh [BUILD_DIR]   exit 0 when every include points down
#
# With BUILD_DIR, the objects of the core library are checked too: every
# symbol an object uses must be defined in its own layer or a lower one.
#
# The order, lowest first (docs/architecture.md explains each layer):
layers=(
  harness/base        # errors, buffers, templates, JSON Pointer, parameter tables, diagnostics
  harness/history     # the operation log
  harness/core        # the model and the interfaces: run context, target, injector
  harness/proto       # protocol clients: HTTP (libcurl), Redis (hiredis), Sentinel
  harness/checkers    # pure functions over a history
  harness/lint        # lint-images: image references in compose/k8s/Dockerfiles
  harness/targets     # target registry and implementations (local/)
  harness/workload    # workloads, follows, probes
  harness/proxy       # the fault proxy: TCP relay, toxics, HTTP framing and faults
  injectors           # one file per fault type + registry
  harness/scenario    # YAML loader -> validated model
  reports             # JUnit, JSON lines, console
  harness/run         # the run loop: phases, fault timeline, journal
  harness/cli         # the command line
)
set -u
cd "$(dirname "$0")/.."

rank_of() {   # folder of a repository path -> layer index, or -1
  local p=$1 i
  for i in "${!layers[@]}"; do
    case "$p" in "${layers[$i]}"/*) echo "$i"; return ;; esac
  done
  echo -1
}

bad=0
while IFS= read -r f; do
  r=$(rank_of "$f")
  [ "$r" -ge 0 ] || { echo "check-layers: $f is in no layer" >&2; bad=1; continue; }
  while IFS= read -r inc; do
    # Includes are written from the harness/ or the repository root.
    if [ -e "harness/$inc" ]; then target="harness/$inc"
    elif [ -e "$inc" ]; then target="$inc"
    # Generated at configure time from a file of the same folder
    # (reports/html/page.h.in -> BUILD/gen/html_page.h).
    elif [ "$inc" = html_page.h ] && [ "$f" = reports/html.c ]; then continue
    else echo "check-layers: $f includes \"$inc\", which is not in the tree" >&2; bad=1; continue
    fi
    t=$(rank_of "$target")
    if [ "$t" -gt "$r" ]; then
      echo "check-layers: $f (${layers[$r]}) includes $target (${layers[$t]}, a higher layer)" >&2
      bad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files 'harness/*.[ch]' 'injectors/*.[ch]' 'reports/*.[ch]')

# Link level: who defines each global symbol, and who uses it.
if [ $# -ge 1 ]; then
  objdir="$1/CMakeFiles/faultline_core.dir"
  [ -d "$objdir" ] || { echo "check-layers: no objects in $objdir (build first)" >&2; exit 2; }
  declare -A def_rank def_file
  while IFS= read -r o; do
    src=${o#"$objdir"/}; src=${src%.o}
    r=$(rank_of "$src")
    while read -r sym; do def_rank[$sym]=$r; def_file[$sym]=$src; done \
      < <(nm --defined-only -g "$o" | awk '$2 ~ /[TDRBC]/ {print $3}')
  done < <(find "$objdir" -name '*.o' | sort)
  while IFS= read -r o; do
    src=${o#"$objdir"/}; src=${src%.o}
    r=$(rank_of "$src")
    while read -r sym; do
      t=${def_rank[$sym]:-}
      [ -n "$t" ] || continue      # a system library's symbol
      if [ "$t" -gt "$r" ]; then
        echo "check-layers: $src (${layers[$r]}) uses $sym from ${def_file[$sym]} (${layers[$t]}, a higher layer)" >&2
        bad=1
      fi
    done < <(nm -u "$o" | awk '{print $2}')
  done < <(find "$objdir" -name '*.o' | sort)
fi
[ $bad -eq 0 ] && echo "check-layers: ok (${#layers[@]} layers${1:+, includes and symbols})"
exit $bad

#!/usr/bin/env bash
# docs/scenario-format.md carries the injector and checker reference
# generated from the parameter tables: the two must not disagree.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
"$FL" reference > "$TMP/ref.md"
sed -n '/<!-- reference:begin/,/<!-- reference:end/p' docs/scenario-format.md | sed '1d;$d' > "$TMP/doc.md"
diff -u "$TMP/doc.md" "$TMP/ref.md" || fail "docs/scenario-format.md is out of date: regenerate with tools/gen-docs.sh"
pass "docs/scenario-format.md matches faultline reference"
# Every shipped scenario validates and every injector/checker is documented.
for name in $("$FL" reference | sed -n 's/^### `\(.*\)`$/\1/p'); do
  grep -q "### \`$name\`" docs/scenario-format.md || fail "$name undocumented"
done
pass "every injector and checker is documented"

#!/usr/bin/env bash
# The PrometheusRule manifest carries exactly the rules of the rules file:
# it is what the generator writes today, its spec is the rules file, and
# promtool accepts that spec.
set -euo pipefail
source_dir=$1
promtool=$2
manifest=$source_dir/deploy/base/prometheusrule.yaml
rules=$source_dir/dashboards/alerts/leakwatch-rules.yml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$source_dir/dashboards/generate-prometheusrule.sh" > "$tmp/generated.yaml"
diff -u "$manifest" "$tmp/generated.yaml" ||
  { echo "deploy/base/prometheusrule.yaml is stale: run dashboards/generate-prometheusrule.sh > deploy/base/prometheusrule.yaml"; exit 1; }

# The spec, unindented, against the rules file without its comments.
sed -n '/^spec:$/,$p' "$manifest" | tail -n +2 | sed 's/^  //' > "$tmp/spec.yml"
sed -e '1,/^groups:/{/^groups:/!d}' "$rules" > "$tmp/rules.yml"
diff -u "$tmp/rules.yml" "$tmp/spec.yml" || { echo "the manifest's spec differs from the rules file"; exit 1; }
grep -qx 'kind: PrometheusRule' "$manifest"
grep -qx '  namespace: leakwatch' "$manifest"
"$promtool" check rules "$tmp/spec.yml"

#!/usr/bin/env bash
# Rebuild .dvc/plots/offline.html, the page `dvc plots show` fills (see plots.html_template in
# .dvc/config). DVC's own page loads vega, vega-lite and vega-embed from a CDN, so its plots stay
# blank without a network; this one inlines the same versions (BSD-3-Clause, notices kept), so
# the report opens anywhere. Needs npm; run it only to change those versions.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2)  # the versions dvc-render asks for

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for package in "${packages[@]}"; do
  mkdir "$work/${package%@*}"
  (cd "$work" && npm pack --silent "$package" >/dev/null)
  tar xzf "$work/${package%@*}-${package#*@}.tgz" -C "$work/${package%@*}" --strip-components=1
done

out=.dvc/plots/offline.html
{
  printf '<!DOCTYPE html>\n<html>\n<head>\n  <meta charset="utf-8">\n  {refresh_tag}\n'
  printf '  <title>dvc-workshop plots</title>\n'
  for package in "${packages[@]}"; do
    name=${package%@*}
    printf '  <!-- %s, inlined from npm. Its licence:\n' "$package"
    sed 's/--/- -/g' "$work/$name/LICENSE"
    printf '  -->\n  <script>\n'
    cat "$work/$name/build/$name.min.js"
    printf '\n  </script>\n'
  done
  cat <<'HTML'
  <style>
    body { font-family: sans-serif; margin: 2em; }
    table { border-spacing: 15px; }
  </style>
</head>
<body>
  <h1>dvc-workshop plots</h1>
  {plot_divs}
</body>
</html>
HTML
} >"$out"
echo "wrote $out ($(wc -c <"$out") bytes)"

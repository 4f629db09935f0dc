#!/bin/sh
# Refreshes the vendored GraphiQL files from npm (see README.md here), then prints
# their sha256 sums for README.md. Usage: sh assets/graphiql/refresh.sh [graphiql] [react]
set -eu
GRAPHIQL=${1:-4.0.3}
REACT=${2:-18.3.1}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for package in graphiql react react-dom; do
  mkdir "$package"
  tar xzf "$package"-*.tgz -C "$package"
  cp "$package/package/LICENSE" "$here/LICENSE.$package"
done
cp graphiql/package/graphiql.min.js graphiql/package/graphiql.min.css "$here/"
cp react/package/umd/react.production.min.js "$here/"
cp react-dom/package/umd/react-dom.production.min.js "$here/"
cd "$here"
sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js

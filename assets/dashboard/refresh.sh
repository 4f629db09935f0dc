#!/bin/sh
# Refreshes the dashboard's vendored files from npm (see README.md here), then prints
# their sha256 sums for README.md. Usage: sh assets/dashboard/refresh.sh [echarts] [graphql-ws]
set -eu
ECHARTS=${1:-6.1.0}
GRAPHQL_WS=${2:-6.4.2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "echarts@$ECHARTS" "graphql-ws@$GRAPHQL_WS" >/dev/null
for package in echarts graphql-ws; do
  mkdir "$package"
  tar xzf "$package"-*.tgz -C "$package"
done
cp echarts/package/dist/echarts.min.js "$here/"
cp echarts/package/LICENSE "$here/LICENSE.echarts"
cp echarts/package/NOTICE "$here/NOTICE.echarts"
cp graphql-ws/package/umd/graphql-ws.min.js "$here/"
cp graphql-ws/package/LICENSE.md "$here/LICENSE.graphql-ws"
cd "$here"
sha256sum echarts.min.js graphql-ws.min.js

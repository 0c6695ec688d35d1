# Sourced by test/run.sh and test/e2e/run.sh. The action runs on Node 24 (`runs.using: node24`):
# the tests run the bundle under that binary, installed from the npm registry, and export its path.
node24_dir="${LOADGATE_NODE24_DIR:-$HOME/.cache/loadgate/node24}"
if [ ! -x "$node24_dir/node_modules/.bin/node" ]; then
  echo "installing Node 24 into $node24_dir (npm i node@24)" >&2
  mkdir -p "$node24_dir"
  npm install --silent --no-save --no-package-lock --prefix "$node24_dir" node@24 >/dev/null
fi
export LOADGATE_NODE24="$node24_dir/node_modules/.bin/node"

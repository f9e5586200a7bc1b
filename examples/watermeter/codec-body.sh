#!/bin/sh
# codec-body.sh FILE: the body of PUT …/products/{product_id}/codec for a codec kept in a
# file — {"kind":"js","source":"…"} for a .js file, {"kind":"declarative","source":"…"}
# for a .json layout — with the file's text as a JSON string (backslashes, quotes, tabs
# and line ends escaped), so that curl can send it as is:
#   examples/watermeter/codec-body.sh examples/watermeter/codec.js |
#       curl -s -X PUT "$API/products/watermeter/codec" -H "X-Auth-Token: $TOKEN" --data-binary @-
# Only sed and tr: nothing to install.
set -eu
file=${1:?usage: codec-body.sh FILE.js|FILE.json}
case $file in
*.js) kind=js ;;
*.json) kind=declarative ;;
*) echo "codec-body.sh: $file is neither .js (JavaScript) nor .json (declarative layout)" >&2; exit 2 ;;
esac
[ -r "$file" ] || { echo "codec-body.sh: cannot read $file" >&2; exit 2; }
printf '{"kind":"%s","source":"' "$kind"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r/\\r/g' -e 's/$/\\n/' "$file" | tr -d '\n'
printf '"}\n'

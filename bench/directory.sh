#!/usr/bin/env bash
# Benchmark: the directory search (issue 21 item 5). N customers (default 100,000) of one
# enterprise, most named by two Chinese characters; R requests each (one after the other, one
# kept-alive connection, as the administrator, limit=20) of:
#   - GET /api/v1/customers?q=<a two-character name>   (the GIN index over directory_grams)
#   - GET /api/v1/customers?q=<a code prefix>          (customers_code_prefix)     
#   - GET /api/v1/enterprises/ENT0                     (a primary-key read: an enterprise with
#                                                       no records, so its counts are empty)
# Prints p50/p95 milliseconds of each and the searches' p95 over the primary-key read's (goal:
# at most 5×), after the plans of both searches (EXPLAIN: they must use the indexes; the script
# fails if they do not).
#
#   bash bench/directory.sh                   # N=100000 R=300
#   N=2000 R=30 BUILD=0 BIN=$CARGO_TARGET_DIR/debug/cylwatch bash bench/directory.sh   # a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
R=${R:-300}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
BIN=${BIN:-$CARGO_TARGET_DIR/server/cylwatch}
DB=cylwatch_bench_directory
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT

[ "${BUILD:-1}" = 0 ] || cargo build --quiet --profile server -p cylwatch
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=bench-directory \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_LOG=warn "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
API=http://127.0.0.1:$PORT/api/v1
TOKEN=$(curl -sS -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$API/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "cannot sign in"; cat "$WORK/err"; exit 1; }
post() { # path body; fails unless 2xx
  local status
  status=$(curl -sS -o "$WORK/answer" -w '%{http_code}' -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' --data-binary "$2" "$API/$1")
  case $status in 2??) ;; *) echo "POST $1: $status $(head -c 400 "$WORK/answer")" >&2; return 1 ;; esac
}
for e in ENT0 ENT1; do
  post enterprises "{\"code\":\"$e\",\"name\":\"基准燃气$e\",\"credit_code\":\"91410100X\",\"district_code\":\"410105\",\"address\":\"郑州\",\"media\":[\"LPG\"]}"
done

# N customers CU000000.. of ENT1: nine in ten named by two characters of 200 common ones
# (40,000 names, about two customers each), the others by four.
psql -qAtX -v ON_ERROR_STOP=1 "$URL" <<SQL
INSERT INTO customers (code, enterprise_code, name, kind, phone, address, location,
                       district_code, full_stock_limit)
SELECT format('CU%s', lpad(i::text, 6, '0')), 'ENT1',
       CASE WHEN i % 10 = 0 THEN c1 || c2 || '饭店' ELSE c1 || c2 END,
       'household', '13800000000', '郑州', ST_SetSRID(ST_MakePoint(113.66, 34.76), 4326),
       '410105', 0
FROM (SELECT i, substr(p, (1 + (i * 7919) % 200)::int, 1) AS c1,
             substr(p, (1 + (i * 104729 / 200) % 200)::int, 1) AS c2
      FROM generate_series(0::bigint, $N - 1) AS i,
           (SELECT '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝' AS p) AS pool) AS picks;
VACUUM ANALYZE customers;
SQL
# The names and prefixes asked for, spread over the table.
psql -qAtX "$URL" -c "SELECT name FROM customers WHERE length(name) = 2 ORDER BY md5(code) LIMIT 50" > "$WORK/names"
psql -qAtX "$URL" -c "SELECT substr(code, 1, 7) FROM customers ORDER BY md5(code) LIMIT 50" > "$WORK/prefixes"
NAME=$(head -1 "$WORK/names"); PREFIX=$(head -1 "$WORK/prefixes")

# The plans (the statement the server writes for ?q=, with the values inlined).
plan() {
  psql -qAtX "$URL" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT cu.code FROM customers cu JOIN enterprises e ON e.code = cu.enterprise_code WHERE true AND (cu.code LIKE '$1%' ESCAPE '\\' OR (directory_grams(cu.name) @> directory_query_grams('$1') AND strpos(lower(cu.name), lower('$1')) > 0)) ORDER BY cu.code LIMIT 21"
}
for q in "$NAME" "$PREFIX"; do
  echo "plan of q=$q:"; plan "$q" | sed 's/^/  /' | tee "$WORK/plan"
  # A small table is read whole (cheaper than an index); from 50,000 rows on the index serves.
  for index in customers_name_grams customers_code_prefix; do
    if [ "$N" -ge 50000 ] && ! grep -q "$index" "$WORK/plan"; then
      echo "q=$q does not use $index"; exit 1
    fi
  done
done

urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
# R requests of the URLs in a file (cycled), one connection; prints each one's seconds.
run() {
  local i=0
  : > "$WORK/curlrc"
  while [ "$i" -lt "$R" ]; do
    while read -r url && [ "$i" -lt "$R" ]; do
      printf 'url = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total}\\n"\n' "$url" >> "$WORK/curlrc"
      i=$((i + 1))
    done < "$1"
  done
  curl -sS -H "authorization: Bearer $TOKEN" -K "$WORK/curlrc" > "$WORK/times"
  if grep -qv '^200 ' "$WORK/times"; then echo "not all 200: $(grep -v '^200 ' "$WORK/times" | head -3)"; exit 1; fi
  awk '{print $2}' "$WORK/times"
}
percentiles() { # seconds on stdin → "p50 p95" in ms
  sort -g | awk '{a[NR] = $1} END {p50 = a[int(NR * 0.5 + 0.5)]; p95 = a[int(NR * 0.95 + 0.5)];
    printf "%.2f %.2f\n", p50 * 1000, p95 * 1000}'
}
while read -r n; do echo "$API/customers?limit=20&q=$(urlencode "$n")"; done < "$WORK/names" > "$WORK/name_urls"
while read -r p; do echo "$API/customers?limit=20&q=$p"; done < "$WORK/prefixes" > "$WORK/prefix_urls"
echo "$API/enterprises/ENT0" > "$WORK/pk_urls"
# Warm-up (connections, prepared statements, caches), then the measured runs.
R_MEASURED=$R; R=$(( R < 50 ? R : 50 ))
for f in name_urls prefix_urls pk_urls; do run "$WORK/$f" > /dev/null; done
R=$R_MEASURED
read -r pk50 pk95 < <(run "$WORK/pk_urls" | percentiles)
read -r nm50 nm95 < <(run "$WORK/name_urls" | percentiles)
read -r px50 px95 < <(run "$WORK/prefix_urls" | percentiles)
hits=$(curl -sS -H "authorization: Bearer $TOKEN" "$API/customers?limit=20&q=$(urlencode "$NAME")" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$hits" -ge 1 ] || { echo "q=$NAME found nothing"; exit 1; }
echo
echo "N=$N customers, R=$R requests each (ms)        p50      p95   p95 / primary key"
printf "%-44s %8s %8s\n" "GET /enterprises/ENT0 (primary key)" "$pk50" "$pk95"
printf "%-44s %8s %8s %8.2fx\n" "GET /customers?q=<two-character name>" "$nm50" "$nm95" "$(echo "$nm95 / $pk95" | bc -l)"
printf "%-44s %8s %8s %8.2fx\n" "GET /customers?q=<code prefix, 7 chars>" "$px50" "$px95" "$(echo "$px95 / $pk95" | bc -l)"
echo "goal: each search's p95 at most 5x the primary-key read's"

#!/usr/bin/env bash
# A throwaway ClickHouse server for `make run STORE=clickhouse` and benchmarks: free ports on 127.0.0.1,
# data, config and logs in DIR. `start DIR` prints the HTTP port once the server answers and writes its
# pid to DIR/pid; `stop DIR` stops it (the caller removes DIR).
set -euo pipefail
cmd=${1:?usage: clickhouse-local.sh start|stop DIR}
dir=${2:?usage: clickhouse-local.sh start|stop DIR}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
case "$cmd" in
  start)
    command -v clickhouse-server >/dev/null || { echo "clickhouse-local: clickhouse-server is not installed (make deps)" >&2; exit 1; }
    mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
    http=$(free_port); tcp=$(free_port)
    cat >"$dir/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog><console>0</console></logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
XML
    cat >"$dir/users.xml" <<XML
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
    (cd "$dir" && exec clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1) &
    echo $! >"$dir/pid"
    for _ in $(seq 600); do
      if [ "$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$http/ping', timeout=1).read().decode().strip())" 2>/dev/null)" = "Ok." ]; then
        echo "$http"; exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "clickhouse-local: server exited:" >&2; tail -5 "$dir/log/error.log" "$dir/log/stdout.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "clickhouse-local: no answer on port $http after 60 s" >&2; exit 1 ;;
  stop)
    [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true ;;
  *) echo "usage: clickhouse-local.sh start|stop DIR" >&2; exit 2 ;;
esac

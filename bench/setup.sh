# Shared by bench/proxy.sh and bench/wakeups.sh (sourced, from the repo's
# root, after the release build): a work folder and its cleanup, the fast
# backend on core 0, and on core 1 nginx (a plain reverse proxy: one worker,
# proxy_buffering off, upstream keepalive) and vllm-mux in front of it;
# wrk's request in $work/post.lua. Ports: $UP_PORT, $NGINX_PORT, $MUX_PORT.
work=$(mktemp -d)
export WORK="$work" VLLM_MUX_HOME="$work/home"
mux="$PWD/target/release/vllm-mux"
cleanup() {
    "$mux" --config bench stop --timeout 2 >/dev/null 2>&1 || true
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    [ -n "${upstream_pid:-}" ] && kill "$upstream_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export UP_PORT=$(free_port) NGINX_PORT=$(free_port) MUX_PORT=$(free_port)

taskset -c 0 target/release/examples/bench-upstream --port "$UP_PORT" --chunks 32 --interval-ms 5 &
upstream_pid=$!

mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    upstream backend { server 127.0.0.1:$UP_PORT; keepalive 256; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
NGINX
taskset -c 1 nginx -c "$work/nginx.conf" -p "$work/nginx"

"$mux" --config bench init -q --host 127.0.0.1 --port "$MUX_PORT"
"$mux" --config bench add-model bench --engine url --url "http://127.0.0.1:$UP_PORT" -q
taskset -c 1 "$mux" --config bench start -q

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model": "bench", "messages": [{"role": "user", "content": "Say something."}], "max_tokens": 16}'
wrk.headers["Content-Type"] = "application/json"
LUA
